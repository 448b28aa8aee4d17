//! A descent run continued from its checkpoint computes the bits of the run that never
//! stopped (the reference: that uninterrupted run), for GD, SGD under every sampling,
//! momentum and a piecewise schedule; and a checkpoint refuses another problem.

mod common;

use ddln::{
    descent, resume_descent, train, train_from, DescentSettings, Method, Model, RateCheck,
    Sampling, Schedule,
};

fn settings(
    steps: u64,
    momentum: f64,
    batch: Option<usize>,
    sampling: Sampling,
) -> DescentSettings {
    DescentSettings {
        lr: 2e-3,
        steps,
        momentum,
        batch_size: batch,
        sampling,
        seed: 5,
        record_every: 7,
        schedule: Schedule::Piecewise {
            boundaries: vec![150, 400],
            factors: vec![1.0, 0.5, 0.25],
        },
        ..DescentSettings::default()
    }
}

#[test]
fn resumed_runs_equal_uninterrupted_runs_bit_for_bit() {
    let (n, d) = (12, 6);
    let problem = common::random_problem(n, d, 4);
    let init = common::random_init(2, d, 0.5, 6);
    let model = Model::deep(2);
    let cases = [
        (0.0, None, Sampling::Replacement),
        (0.0, Some(3), Sampling::Replacement),
        (0.0, Some(5), Sampling::Epochs),
        (
            0.9,
            Some(2),
            Sampling::Order {
                indices: vec![4, 0, 11, 3, 3, 7, 1],
            },
        ),
        (0.5, None, Sampling::Replacement),
    ];
    for (momentum, batch, sampling) in cases {
        let whole = descent(
            &problem,
            model,
            &init,
            &settings(600, momentum, batch, sampling.clone()),
            &mut (),
        )
        .unwrap();
        let first = descent(
            &problem,
            model,
            &init,
            &settings(250, momentum, batch, sampling.clone()),
            &mut (),
        )
        .unwrap();
        let checkpoint = first.checkpoint.clone().unwrap();
        assert_eq!(checkpoint.step, 250);
        let rest = resume_descent(
            &problem,
            model,
            &checkpoint,
            &settings(600, momentum, batch, sampling.clone()),
            &mut (),
        )
        .unwrap();
        let case = format!("momentum {momentum}, batch {batch:?}, {sampling:?}");
        assert_eq!(rest.final_state, whole.final_state, "{case}");
        assert_eq!(rest.t_final.to_bits(), whole.t_final.to_bits(), "{case}");
        // Everything but the count of checked iterates (the saved run's last iterate is
        // one more record than the uninterrupted run has).
        let strip = |c: &Option<ddln::DescentCheckpoint>| {
            let mut c = c.clone().unwrap();
            if let Some(identity) = c.identity.as_mut() {
                identity.checked = 0;
            }
            c
        };
        assert_eq!(strip(&rest.checkpoint), strip(&whole.checkpoint), "{case}");
        // The continuation's records are the uninterrupted run's records from step 252 on.
        let tail = whole
            .trajectory
            .t
            .iter()
            .position(|&t| t == rest.trajectory.t[1])
            .unwrap();
        assert_eq!(
            &whole.trajectory.t[tail..],
            &rest.trajectory.t[1..],
            "{case}"
        );
        assert_eq!(&whole.trajectory.loss[tail..], &rest.trajectory.loss[1..]);
    }
}

/// The implicit-bias table after a resume covers the whole run: equal to the table of
/// the uninterrupted run.
#[test]
fn the_step_identity_survives_a_resume() {
    let problem = common::random_problem(8, 10, 2);
    let init = common::random_init(2, 10, 0.3, 3);
    let (model, check) = (Model::deep(2), RateCheck::default());
    let method = |steps| Method::Descent(settings(steps, 0.0, Some(3), Sampling::Replacement));
    let whole = train(&problem, model, &init, &method(900), &check, &mut ()).unwrap();
    let first = train(&problem, model, &init, &method(300), &check, &mut ()).unwrap();
    let c = first.run.checkpoint.unwrap();
    let rest = train_from(
        &problem,
        model,
        &init,
        Some(&c),
        &method(900),
        &check,
        &mut (),
    )
    .unwrap();
    let (a, b) = (
        whole.implicit_bias.unwrap().check.unwrap(),
        rest.implicit_bias.unwrap().check.unwrap(),
    );
    assert_eq!(a.identity.sum(), b.identity.sum());
    assert_eq!(a.theta_predicted, b.theta_predicted);
}

/// A checkpoint of one problem does not continue another, nor a finished run.
#[test]
fn checkpoints_refuse_other_problems_and_finished_runs() {
    let init = common::random_init(2, 6, 0.5, 6);
    let model = Model::deep(2);
    let a = common::random_problem(12, 6, 4);
    let b = common::random_problem(12, 6, 5);
    let s = settings(100, 0.0, None, Sampling::Replacement);
    let c = descent(&a, model, &init, &s, &mut ())
        .unwrap()
        .checkpoint
        .unwrap();
    let err = resume_descent(
        &b,
        model,
        &c,
        &settings(200, 0.0, None, Sampling::Replacement),
        &mut (),
    )
    .unwrap_err();
    assert!(err.to_string().contains("another problem"), "{err}");
    let err = resume_descent(&a, model, &c, &s, &mut ()).unwrap_err();
    assert!(err.to_string().contains("steps > 100"), "{err}");
    let err = resume_descent(
        &a,
        Model::Signed { power: 2 },
        &c,
        &settings(200, 0.0, None, Sampling::Replacement),
        &mut (),
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("another problem or model"),
        "{err}"
    );
}

/// A sample order with an index outside the data is an error naming it.
#[test]
fn bad_sample_orders_are_errors() {
    let problem = common::random_problem(5, 3, 1);
    let init = common::random_init(2, 3, 0.5, 2);
    for (indices, needle) in [(vec![0, 5], "indices[1] = 5"), (vec![], "is empty")] {
        let s = settings(10, 0.0, Some(2), Sampling::Order { indices });
        let err = descent(&problem, Model::deep(2), &init, &s, &mut ()).unwrap_err();
        assert!(err.to_string().contains(needle), "{err}");
        assert!(err.to_string().contains("sampling.indices"));
    }
}
