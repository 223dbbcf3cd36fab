"""The stateful shell every optimizer shares, and the one switch between compiled and numpy kernels.

Each optimizer module (``sgd.py``, ``rmsprop.py``, ``adam.py``) holds its math
twice, on purpose and side by side: the *textbook* pure function the lessons
show (``adam_step``: returns every intermediate, runs on Fractions too) and the
*kernel* its class runs: the same lines as a loop over the elements, updating
``theta`` and the state in place in one pass over memory. The kernel is
compiled by numba when numba imports (:data:`KERNEL` is ``"numba"``); where it
cannot (a Python release numba has no wheel for yet, Pyodide), the class runs
the textbook function on whole arrays and writes the result back in place
(:data:`KERNEL` is ``"numpy"``). Setting ``LESSONLIB_KERNEL=numpy`` before the
import picks the fallback on purpose.

This base class does the rest the way ``torch.optim.Optimizer`` does:
parameters are updated *in place*, ``state`` is a list aligned with
``params``, ``state_dict`` / ``load_state_dict`` make deep copies, and a
rejected call changes nothing.
"""

from __future__ import annotations

import copy

import numpy as np

from lessonlib.optim._arrays import check_grads, check_params, check_state, first_overlap, root
from lessonlib.optim._checks import MAX_STEPS, check_bool
from lessonlib.optim._compile import KERNEL  # noqa: F401  (documented here, with the switch it names)

#: The optimizers whose ``_update`` runs a compiled kernel or the numpy form, chosen once at import by
#: :data:`KERNEL` (each class's ``_update`` is its ``_update_compiled`` or its ``_update_numpy``).


def in_dtype(dtype, *values):
    """``values`` as numpy scalars of ``dtype``: a float32 kernel gets float32 numbers (1e300 becomes inf, quietly)."""
    with np.errstate(all="ignore"):
        return tuple(dtype.type(v) for v in values)


def flat_views(*arrays):
    """Yield tuples of 1-D views of ``arrays`` (same shape), element for element in C order; never a copy.

    A C-contiguous, 0-d or 1-D array is one view; a strided array that cannot be
    viewed as 1-D (a transposed matrix, every other column) is walked along its first axis.
    """
    flat = []
    for a in arrays:
        try:
            flat.append(a if a.ndim == 1 else a.reshape(-1, copy=False))
        except ValueError:  # "Unable to avoid creating a copy while reshaping"
            break
    if len(flat) == len(arrays):
        yield tuple(flat)
        return
    for i in range(arrays[0].shape[0]):
        yield from flat_views(*(a[i] for a in arrays))


class Optimizer:
    """Base class: holds ``params`` and one state dict per parameter.

    A subclass names its hyperparameters in ``_hyper`` (each a validating
    :class:`~lessonlib.optim._checks.hyperparameter`), its state arrays in
    ``_moments`` (zeroed like the parameter) and defines ``_update(p, g, state)``.
    """

    _hyper: tuple[str, ...] = ()
    _moments: tuple[str, ...] = ()
    _nonnegative: tuple[str, ...] = ()  # state arrays that are averages of squares
    #: What an optimizer remembers only to go faster (the states last checked, their memory, scalars per step and
    #: dtype); not its state: any call may fill or empty these, a refused one too. A copy forgets the states last
    #: checked (``__setstate__``), so its first step checks them in full and finds its own arrays' memory.
    _memos: tuple[str, ...] = ("_known", "_protected", "_step_cache", "_hyper_cache")

    def __init__(self, params):
        self._params = tuple(check_params(params))
        self.state = [{"t": 0, **{name: np.zeros_like(p) for name in self._moments}} for p in self.params]
        self._known = [None] * len(self.params)  # the state arrays last checked in full, per parameter
        self._step_cache = {}  # what a subclass computes once per step and dtype (hyperparameters may change)

    def _check_states(self) -> None:
        """Every parameter's state, before a step: in full, unless it holds the arrays last checked.

        The quick test (the same array objects, still writeable and still of the parameter's shape
        and dtype, which an in-place ``.shape =`` or ``.dtype =`` would change; an int ``t`` in
        range) costs about a microsecond per parameter; anything else (a state edited or replaced
        by hand) goes through :func:`~lessonlib.optim._arrays.check_state`. The quick test earns its
        place where the lessons step: ``benchmarks/state_check.py`` measured (2026-12-08) a step on
        2 parameters of 50 at 4.0x the time with every state checked in full, 100 of 10 at 5.3x,
        and one of 10^6 at 1.0x (the step itself dominates there).
        """
        if type(self.state) is not list or len(self.state) != len(self.params):
            raise ValueError(f"state must be a list of {len(self.params)} dicts, one per parameter")
        changed = False
        for i, (p, state, known) in enumerate(zip(self.params, self.state, self._known)):
            if known is not None and type(state) is dict and len(state) == len(known) + 1:
                t = state.get("t")
                if type(t) is int and 0 <= t < MAX_STEPS:
                    shape, dtype = p.shape, p.dtype
                    for key, arr in known:
                        if (
                            state.get(key) is not arr
                            or arr.shape != shape
                            or arr.dtype != dtype
                            or not arr.flags.writeable
                        ):
                            break
                    else:
                        continue
            check_state(f"state[{i}]", state, p, self._moments, self._nonnegative, values=False)
            changed = True
        if changed:  # a state array shared with a parameter or another state array: one write would spoil another
            names = [f"params[{i}]" for i in range(len(self.params))]
            names += [f"state[{i}]['{key}']" for i in range(len(self.state)) for key in self._moments]
            arrays = [*self.params, *(s[key] for s in self.state for key in self._moments)]
            pair = first_overlap(arrays)
            if pair:
                raise ValueError(f"{names[pair[1]]} shares memory with {names[pair[0]]}; each must be its own array")
            for i, state in enumerate(self.state):
                state["t"] = int(state["t"])  # a numpy integer would wrap around, or fail in t + 1
                self._known[i] = tuple((key, state[key]) for key in self._moments)
            self._protected = {id(root(a)) for a in arrays}

    def __setstate__(self, attributes: dict) -> None:
        """A copy (``copy.copy``, ``copy.deepcopy``) or an unpickled optimizer checks its states in full first.

        What the quick test remembers (the arrays' identities, their memory) belongs to the original.
        """
        self.__dict__.update(attributes)
        self._known = [None] * len(self._params)  # the rest of _memos is recomputed with it, or holds no memory

    @property
    def params(self) -> tuple[np.ndarray, ...]:
        """The parameters, as given (read-only: the state was made for these arrays)."""
        return self._params

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict) -> None:
        raise NotImplementedError

    def step(self, grads, *, check_finite: bool = True) -> None:
        r"""Take one step with ``grads`` (a list aligned with ``params``); update in place.

        Every gradient and every state is checked first (count, shape, dtype,
        finiteness, a ``t`` edited by hand); if one is bad a ``ValueError`` or
        ``TypeError`` is raised and no parameter and no state has changed.

        Args:
            grads: :math:`g_t`, one array (or array-like) per parameter, of its shape.
            check_finite: look for nan and inf in every gradient before the step (the default).
                ``False`` skips that look, as ``scipy.linalg``'s argument of the same name does:
                the step then costs one read of :math:`g` less (at sizes beyond the caches, an
                eighth of what it moves; ``make bench`` measures it), and a nan or inf in :math:`g`
                (or a value too large for a float32 parameter, which becomes inf in the cast) is
                applied as torch's optimizer of the same name applies it: the same elements of
                :math:`\theta` and of the state become nan or inf (tested against torch). For
                gradients already known to be finite; every other check still runs.
        """
        # Nothing in a step may raise half-way: overflow gives inf and underflow 0, silently, as in torch. The
        # compiled kernels ignore numpy's error settings; every numpy operation that could trip them (a cast to
        # float32, the numpy fallback, hyperparameters cast to the parameter's dtype) runs under an errstate.
        if type(self)._update is Optimizer._update:
            raise NotImplementedError(f"{type(self).__name__} defines no update: subclass Optimizer and define _update")
        finite = check_bool("check_finite", check_finite)
        self._check_states()
        grads = check_grads(grads, self.params, self._protected, finite=finite)
        self._step_cache.clear()
        for p, g, state in zip(self.params, grads, self.state):
            state["t"] += 1
            self._update(p, g, state)

    @property
    def hyperparameters(self) -> dict:
        """The current hyperparameters, by name."""
        return {name: getattr(self, name) for name in self._hyper}

    def state_dict(self) -> dict:
        """A deep copy of the hyperparameters and of every parameter's state."""
        return {"hyperparameters": self.hyperparameters, "state": copy.deepcopy(self.state)}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore what ``state_dict()`` returned (deep-copied, so the source stays untouched).

        Checked in full before anything is replaced: the hyperparameters, the number of
        parameters, the keys of each state, and the shape, dtype and values of every array.
        The arrays are copied, so a read-only source is fine.
        """
        if not isinstance(state_dict, dict) or set(state_dict) != {"hyperparameters", "state"}:
            raise ValueError("state_dict must be a dict with the keys 'hyperparameters' and 'state'")
        hyper, states = state_dict["hyperparameters"], state_dict["state"]
        if not isinstance(hyper, dict) or set(hyper) != set(self._hyper):
            raise ValueError(f"state_dict['hyperparameters'] must have the keys {sorted(self._hyper)}")
        if not isinstance(states, (list, tuple)) or len(states) != len(self.params):
            raise ValueError(f"state_dict['state'] must be a list of {len(self.params)} dicts, one per parameter")
        # Copies first: a read-only source (or a view of one) is fine, since what is loaded is a copy anyway.
        states = [
            {k: a.copy() if type(a) is np.ndarray else a for k, a in s.items()} if isinstance(s, dict) else s
            for s in states
        ]
        for i, (state, p) in enumerate(zip(states, self.params)):
            check_state(f"state_dict['state'][{i}]", state, p, self._moments, self._nonnegative)
        scratch = copy.copy(self)  # every hyperparameter is validated on a copy before self changes
        for name, value in hyper.items():
            setattr(scratch, name, value)
        for name in self._hyper:
            setattr(self, name, getattr(scratch, name))
        self.state = [{"t": int(s["t"]), **{k: s[k] for k in self._moments}} for s in states]

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.hyperparameters.items())
        shapes = ", ".join(str(p.shape) for p in self.params)
        return f"{type(self).__name__}([{shapes}], {args})"
