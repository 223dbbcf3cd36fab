"""The stateful shell every optimizer shares: parameters, per-parameter state, checkpoints.

The math lives in pure functions (``ema.py``, ``rmsprop.py``, ``adam.py``); a
subclass only says which hyperparameters it has, what state a parameter starts
with, and how one parameter takes one step. This base class does the rest the
way ``torch.optim.Optimizer`` does: parameters are updated *in place*,
``state`` is a list aligned with ``params``, and ``state_dict`` /
``load_state_dict`` make deep copies.
"""

from __future__ import annotations

import copy
import numbers

import numpy as np

from lessonlib._checks import check_grads, check_params


class Optimizer:
    """Base class: holds ``params`` and one state dict per parameter.

    Subclasses define ``_hyper`` (names of the hyperparameters, each with a
    validating property), ``_init_state(p)`` and ``_update(p, g, state)``.
    """

    _hyper: tuple[str, ...] = ()
    _nonnegative: tuple[str, ...] = ()  # state arrays that are averages of squares

    def __init__(self, params):
        self.params = tuple(check_params(params))
        self.state = self._init_states(self.params)

    # -- what a subclass provides -------------------------------------------------
    def _init_states(self, params: list[np.ndarray]) -> list[dict]:
        return [self._init_state(p) for p in params]

    def _init_state(self, p: np.ndarray) -> dict:
        raise NotImplementedError

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict) -> None:
        raise NotImplementedError

    # -- the public API -----------------------------------------------------------
    def step(self, grads) -> None:
        """Take one step with ``grads`` (a list aligned with ``params``); update in place.

        Every gradient is checked first (count, shape, dtype, finiteness); if
        one is bad a ``ValueError``/``TypeError`` is raised and no parameter and
        no state has changed.
        """
        grads = check_grads(grads, self.params)
        # Nothing below may raise half-way: overflow gives inf and underflow 0, silently, as in torch.
        with np.errstate(all="ignore"):
            self._apply(grads)

    def _apply(self, grads: list[np.ndarray]) -> None:
        for p, g, state in zip(self.params, grads, self.state):
            self._update(p, g, state)

    def _apply_in_groups(self, grads, flat, names, group_step) -> None:
        """Step along ``flat.plan`` (see :class:`lessonlib.efficient.FlatState`).

        A group of small parameters goes through ``group_step(params, grads, *flat_slices, t)``
        in one call, as long as its members share ``t`` and still hold their flat state views;
        otherwise (a state replaced by hand, say) each member steps on its own.
        """
        for item in flat.plan:
            if isinstance(item, int):
                self._update(self.params[item], grads[item], self.state[item])
                continue
            members = item.members
            t = self.state[members[0]]["t"] + 1
            intact = all(
                self.state[i]["t"] + 1 == t and all(self.state[i][n] is flat.views[i][n] for n in names)
                for i in members
            )
            if not intact:
                for i in members:
                    self._update(self.params[i], grads[i], self.state[i])
                continue
            for i in members:
                self.state[i]["t"] = t
            buffers = flat.buffers[item.dtype]
            group_step(
                [self.params[i] for i in members],
                [grads[i] for i in members],
                *(buffers[n][item.lo : item.hi] for n in names),
                t,
            )

    @property
    def hyperparameters(self) -> dict:
        """The current hyperparameters, by name."""
        return {name: getattr(self, name) for name in self._hyper}

    def state_dict(self) -> dict:
        """A deep copy of the hyperparameters and of every parameter's state."""
        return {"hyperparameters": self.hyperparameters, "state": copy.deepcopy(self.state)}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore what ``state_dict()`` returned (deep-copied, so the source stays untouched).

        Checked in full before anything is replaced: the number of parameters,
        the keys of each state, and the shape and dtype of every array.
        """
        if not isinstance(state_dict, dict) or set(state_dict) != {"hyperparameters", "state"}:
            raise ValueError("state_dict must be a dict with the keys 'hyperparameters' and 'state'")
        hyper, states = state_dict["hyperparameters"], state_dict["state"]
        if set(hyper) != set(self._hyper):
            raise ValueError(
                f"state_dict hyperparameters {sorted(hyper)} do not match this optimizer's {sorted(self._hyper)}"
            )
        if len(states) != len(self.params):
            raise ValueError(
                f"state_dict holds state for {len(states)} params but this optimizer has {len(self.params)}"
            )
        for i, (new, old) in enumerate(zip(states, self.state)):
            if set(new) != set(old):
                raise ValueError(f"state_dict['state'][{i}] has keys {sorted(new)}, expected {sorted(old)}")
            for key, value in old.items():
                if isinstance(value, np.ndarray):
                    arr = new[key]
                    if not isinstance(arr, np.ndarray) or arr.shape != value.shape or arr.dtype != value.dtype:
                        raise ValueError(
                            f"state_dict['state'][{i}]['{key}'] must be an array of shape {value.shape} "
                            f"and dtype {value.dtype}"
                        )
                    if not np.isfinite(arr).all() or (key in self._nonnegative and (arr < 0).any()):
                        allowed = "finite and >= 0" if key in self._nonnegative else "finite"
                        raise ValueError(f"state_dict['state'][{i}]['{key}'] must be {allowed}")
                elif isinstance(value, int) and (
                    isinstance(new[key], bool) or not isinstance(new[key], numbers.Integral) or new[key] < 0
                ):
                    raise ValueError(f"state_dict['state'][{i}]['{key}'] must be an int >= 0, got {new[key]!r}")
        # Validate every hyperparameter on a scratch copy before touching self.
        scratch = copy.copy(self)
        for name, value in hyper.items():
            setattr(scratch, name, value)
        for name in self._hyper:
            setattr(self, name, getattr(scratch, name))
        for old, new in zip(self.state, states):  # into the existing arrays: they may be views of one buffer
            for key, value in new.items():
                if isinstance(old[key], np.ndarray):
                    np.copyto(old[key], value)
                else:
                    old[key] = int(value)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.hyperparameters.items())
        shapes = ", ".join(str(p.shape) for p in self.params)
        return f"{type(self).__name__}([{shapes}], {args})"
