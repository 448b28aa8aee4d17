//! Every bad input gets an error that names the field; numerical trouble is a status.

mod common;

use ddln::{
    descent, gradient_flow, DdlnError, DescentSettings, FlowSettings, Loss, Model, Problem, Status,
};

fn field_of(err: DdlnError) -> String {
    match err {
        DdlnError::Shape { field, .. }
        | DdlnError::NonFinite { field, .. }
        | DdlnError::Invalid { field, .. } => field,
        DdlnError::AssumptionA { .. } => "init".into(),
    }
}

#[test]
fn data_errors_name_the_field() {
    let e = Problem::new(vec![1.0, f64::NAN], 1, 2, vec![0.0], Loss::Square).unwrap_err();
    assert_eq!(field_of(e.clone()), "X");
    assert!(
        e.to_string().contains("NaN") && e.to_string().contains("index 1"),
        "{e}"
    );
    assert_eq!(
        field_of(
            Problem::new(vec![1.0, 2.0], 1, 2, vec![f64::INFINITY], Loss::Square).unwrap_err()
        ),
        "y"
    );
    assert_eq!(
        field_of(Problem::new(vec![1.0, 2.0], 1, 2, vec![0.0, 1.0], Loss::Square).unwrap_err()),
        "y"
    );
    assert_eq!(
        field_of(Problem::new(vec![1.0, 2.0, 3.0], 1, 2, vec![0.0], Loss::Square).unwrap_err()),
        "X"
    );
    assert_eq!(
        field_of(Problem::new(vec![], 0, 2, vec![], Loss::Square).unwrap_err()),
        "X"
    );
    assert_eq!(
        field_of(Problem::new(vec![1.0], 1, 1, vec![0.5], Loss::Logistic).unwrap_err()),
        "y"
    );
}

#[test]
fn init_and_settings_errors_name_the_field() {
    let p = common::random_problem(4, 3, 0);
    let init = common::random_init(3, 3, 0.5, 1);
    let flow = FlowSettings::default();
    let e = gradient_flow(&p, Model::deep(3), &init[..6], &flow, &mut ()).unwrap_err();
    assert_eq!(field_of(e), "init");
    let e = gradient_flow(&p, Model::deep(1), &init[..3], &flow, &mut ()).unwrap_err();
    assert_eq!(field_of(e.clone()), "depth");
    assert!(e.to_string().contains(">= 2"));
    let mut nan_init = init.clone();
    nan_init[4] = f64::NAN;
    assert_eq!(
        field_of(gradient_flow(&p, Model::deep(3), &nan_init, &flow, &mut ()).unwrap_err()),
        "init"
    );
    for (settings, field) in [
        (
            FlowSettings {
                t_end: 0.0,
                ..FlowSettings::default()
            },
            "t_end",
        ),
        (
            FlowSettings {
                t_end: f64::NAN,
                ..FlowSettings::default()
            },
            "t_end",
        ),
        (
            FlowSettings {
                rtol: -1.0,
                ..FlowSettings::default()
            },
            "rtol",
        ),
        (
            FlowSettings {
                atol: 0.0,
                ..FlowSettings::default()
            },
            "atol",
        ),
        (
            FlowSettings {
                rtol: 2.0,
                ..FlowSettings::default()
            },
            "rtol",
        ),
        (
            FlowSettings {
                loss_tol: Some(-1.0),
                ..FlowSettings::default()
            },
            "loss_tol",
        ),
        (
            FlowSettings {
                loss_tol: Some(f64::NAN),
                ..FlowSettings::default()
            },
            "loss_tol",
        ),
        (
            FlowSettings {
                t_eval: Some(vec![0.0, 2.0, 1.0]),
                ..FlowSettings::default()
            },
            "t_eval",
        ),
        (
            FlowSettings {
                t_eval: Some(vec![0.0, 100.0]),
                t_end: 10.0,
                ..FlowSettings::default()
            },
            "t_eval",
        ),
    ] {
        assert_eq!(
            field_of(gradient_flow(&p, Model::deep(3), &init, &settings, &mut ()).unwrap_err()),
            field
        );
    }
    for (settings, field) in [
        (
            DescentSettings {
                lr: 0.0,
                ..DescentSettings::default()
            },
            "lr",
        ),
        (
            DescentSettings {
                steps: 0,
                ..DescentSettings::default()
            },
            "steps",
        ),
        (
            DescentSettings {
                momentum: 1.0,
                ..DescentSettings::default()
            },
            "momentum",
        ),
        (
            DescentSettings {
                batch_size: Some(5),
                ..DescentSettings::default()
            },
            "batch_size",
        ),
        (
            DescentSettings {
                grad_tol: Some(-1e-3),
                ..DescentSettings::default()
            },
            "grad_tol",
        ),
        (
            DescentSettings {
                loss_tol: Some(f64::NAN),
                ..DescentSettings::default()
            },
            "loss_tol",
        ),
    ] {
        assert_eq!(
            field_of(descent(&p, Model::deep(3), &init, &settings, &mut ()).unwrap_err()),
            field
        );
    }
}

#[test]
fn too_large_a_step_diverges_and_keeps_the_last_finite_state() {
    let p = common::random_problem(10, 5, 2);
    let init = common::random_init(3, 5, 1.0, 3);
    let settings = DescentSettings {
        lr: 10.0,
        steps: 1000,
        record_every: 1,
        ..DescentSettings::default()
    };
    let run = descent(&p, Model::deep(3), &init, &settings, &mut ()).unwrap();
    assert_eq!(run.status, Status::Diverged, "{}", run.message);
    assert!(run.message.contains("iteration"));
    assert!(run.final_state.iter().all(|v| v.is_finite()));
    assert!(run.final_loss.is_finite());
    // The kept state is the last recorded one.
    let k = run.trajectory.len() - 1;
    assert_eq!(
        &run.trajectory.states[k * 15..(k + 1) * 15],
        &run.final_state[..]
    );
}

/// With a record grid coarser than the divergence (record_every 100, divergence within a
/// few steps), the trajectory still ends at the last finite state, and Theorem 2 is
/// checked on it (reference: the run's own final state and the definition of the
/// check: only records with t > 0 count). A run with only t = 0 is "not checked".
#[test]
fn divergence_off_the_record_grid_keeps_the_last_finite_state() {
    let p = common::random_problem(10, 5, 2);
    let init = common::random_init(3, 5, 1.0, 3);
    let settings = DescentSettings {
        lr: 10.0,
        steps: 1000,
        record_every: 100,
        ..DescentSettings::default()
    };
    let report = ddln::train(
        &p,
        Model::deep(3),
        &init,
        &ddln::Method::Descent(settings),
        &ddln::RateCheck::default(),
        &mut (),
    )
    .unwrap();
    let run = &report.run;
    assert_eq!(run.status, Status::Diverged);
    assert!(run.trajectory.len() >= 2, "t = 0 and the last finite state");
    let k = run.trajectory.len() - 1;
    assert_eq!(&run.trajectory.states[k * 15..], &run.final_state[..]);
    assert_eq!(run.trajectory.t[k], run.t_final);
    let rate = report.diagnostics.rate.as_ref().unwrap();
    assert_eq!(rate.times_checked, run.trajectory.len() - 1);
    assert_ne!(rate.verdict, ddln::theory::Verdict::NotChecked);
    // No record after t = 0: nothing to check the bound on.
    let pl = ddln::theory::pl_constants(&p).unwrap();
    let lone = ddln::theory::rate_report(
        1.0,
        &pl,
        &[0.0],
        &[run.trajectory.loss[0]],
        &ddln::RateCheck::default(),
    );
    assert_eq!(lone.verdict, ddln::theory::Verdict::NotChecked);
    assert!(!lone.holds && lone.times_checked == 0);
}

#[test]
fn violated_assumption_a_warns_and_runs() {
    let p = common::random_problem(4, 2, 0);
    // Coordinate 1: layers 0 and 1 tie at |0.3|.
    let init = vec![0.5, 0.3, 0.7, -0.3, 0.9, 0.8];
    let report = ddln::train(
        &p,
        Model::deep(3),
        &init,
        &ddln::Method::Flow(FlowSettings {
            t_end: 1.0,
            ..FlowSettings::default()
        }),
        &ddln::RateCheck::default(),
        &mut (),
    )
    .unwrap();
    assert!(report.run.status.is_success());
    let a = report.diagnostics.assumption_a.unwrap();
    assert_eq!(a.violating_coordinates, vec![1]);
    assert!(report
        .diagnostics
        .warnings
        .iter()
        .any(|w| w.contains("assumption (A) fails at coordinates [1]")));
}

#[test]
fn flow_step_budget_is_a_status() {
    let p = common::random_problem(4, 3, 0);
    let init = common::random_init(3, 3, 0.5, 1);
    let settings = FlowSettings {
        max_steps: 5,
        ..FlowSettings::default()
    };
    let run = gradient_flow(&p, Model::deep(3), &init, &settings, &mut ()).unwrap();
    assert_eq!(run.status, Status::MaxSteps);
    assert!(run.t_final > 0.0 && run.t_final < settings.t_end);
}

#[test]
fn flow_from_an_overflowing_state_is_diverged_not_a_panic() {
    // theta = 1e110^3 overflows f64: the loss is infinite at t = 0.
    let p = common::random_problem(4, 2, 0);
    let init = vec![1e110, 2e110, 1e110, 3e110, 1e110, 1.5e110];
    let run = gradient_flow(&p, Model::deep(3), &init, &FlowSettings::default(), &mut ()).unwrap();
    assert_eq!(run.status, Status::Diverged);
    assert_eq!(run.t_final, 0.0);
    assert_eq!(run.final_state, init);
}

/// A coordinate whose theta underflows f64 to exactly 0 gets a warning. Reference: for
/// L = 2, X = 1, y = 0 and u(0) = 1, v(0) = 1e-300, a descent step of 0.45 multiplies v by
/// 1 - 2 * 0.45 u^2 = 0.1 (u stays 1 up to 1e-600), so after 100 steps v would be 1e-400,
/// below f64's smallest subnormal (4.9e-324), while theta(0) = 1e-300 is not 0.
#[test]
fn underflow_of_theta_to_zero_is_a_warning() {
    let p = Problem::new(vec![1.0], 1, 1, vec![0.0], Loss::Square).unwrap();
    let init = vec![1.0, 1e-300];
    let method = ddln::Method::Descent(DescentSettings {
        lr: 0.45,
        steps: 100,
        ..DescentSettings::default()
    });
    let report = ddln::train(
        &p,
        Model::deep(2),
        &init,
        &method,
        &ddln::RateCheck::default(),
        &mut (),
    )
    .unwrap();
    assert_eq!(report.run.final_theta[0], 0.0, "{}", report.run.message);
    assert!(
        report
            .diagnostics
            .warnings
            .iter()
            .any(|w| w.contains("underflowed")),
        "{:?}",
        report.diagnostics.warnings
    );
}
