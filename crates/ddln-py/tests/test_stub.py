"""The type stub `_ddln.pyi` against the compiled module: every function's keyword
names and defaults in the stub are the runtime ones (which test_api.py checks against
the Rust core's defaults), and every Run attribute in the stub exists at runtime."""

import ast
import inspect
from pathlib import Path

import ddln
import ddln._ddln as core

STUB = Path(ddln.__file__).with_name("_ddln.pyi")


def _stub_functions():
    tree = ast.parse(STUB.read_text())
    funcs = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            funcs[node.name] = node
    return tree, funcs


def _defaults(node):
    """{name: default} of a stub signature (keyword-only and positional with defaults)."""
    args = node.args
    out = {}
    for arg, default in zip(args.kwonlyargs, args.kw_defaults):
        out[arg.arg] = ast.literal_eval(default) if default is not None else inspect.Parameter.empty
    positional = args.posonlyargs + args.args
    for arg, default in zip(positional[len(positional) - len(args.defaults):], args.defaults):
        out[arg.arg] = ast.literal_eval(default)
    for arg in positional[: len(positional) - len(args.defaults)]:
        out[arg.arg] = inspect.Parameter.empty
    return out


def test_stub_signatures_are_the_runtime_signatures():
    _, funcs = _stub_functions()
    checked = 0
    for name, node in funcs.items():
        runtime = getattr(core, name, None)
        assert runtime is not None, f"{name} is in the stub but not in the module"
        params = inspect.signature(runtime).parameters
        stub = _defaults(node)
        assert set(stub) == set(params), (name, set(stub) ^ set(params))
        for arg, default in stub.items():
            runtime_default = params[arg].default
            if runtime_default is Ellipsis:
                # PyO3 prints a negative literal default as `...` in the text signature.
                assert isinstance(default, (int, float)) and default < 0, (name, arg)
                continue
            assert runtime_default == default, (name, arg, default, runtime_default)
        checked += 1
    assert checked >= 8


def test_stub_run_attributes_exist():
    tree, _ = _stub_functions()
    run_class = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Run")
    names = [n.name for n in run_class.body if isinstance(n, ast.FunctionDef) and not n.name.startswith("__")]
    runtime = {n for n in dir(core.Run) if not n.startswith("__")}
    assert set(names) == runtime, set(names) ^ runtime


def _literal(node, arg_name):
    """The values of a `Literal[...]` annotation of keyword `arg_name` in a stub function."""
    arg = next(a for a in node.args.kwonlyargs if a.arg == arg_name)
    sl = arg.annotation.slice
    elts = sl.elts if isinstance(sl, ast.Tuple) else [sl]
    return [ast.literal_eval(e) for e in elts]


def test_stub_vocabulary_is_the_core_vocabulary():
    # The core's enums (Rust `ALL` arrays, serde names) are the one definition; the stub's
    # Literal types and the Python enums are checked against them.
    import json

    vocab = json.loads(core._vocabulary())
    _, funcs = _stub_functions()
    assert set(_literal(funcs["gradient_flow"], "integrator")) == set(vocab["Integrator"])
    assert set(_literal(funcs["gradient_flow"], "dynamics")) == set(vocab["Dynamics"])
    for name in ("Status", "PredictStatus", "BaselineStatus", "Integrator", "Dynamics"):
        assert [m.value for m in getattr(ddln, name)] == vocab[name], name
    assert set(vocab["Status"]) == {"Completed", "Converged", "MaxSteps", "Diverged",
                                    "StepSizeTooSmall", "Stopped"}
