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

import numpy as np

from lessonlib._checks import check_grads, check_params


class Optimizer:
    """Base class: holds ``params`` and one state dict per parameter.

    Subclasses define ``_hyper`` (names of the hyperparameters, each with a
    validating property), ``_init_state(p)`` and ``_update(p, g, state)``.
    """

    _hyper: tuple[str, ...] = ()

    def __init__(self, params):
        self.params = check_params(params)
        self.state = [self._init_state(p) for p in self.params]

    # -- what a subclass provides -------------------------------------------------
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
        for p, g, state in zip(self.params, grads, self.state):
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
        # Validate every hyperparameter on a scratch copy before touching self.
        scratch = copy.copy(self)
        for name, value in hyper.items():
            setattr(scratch, name, value)
        for name in self._hyper:
            setattr(self, name, getattr(scratch, name))
        self.state = copy.deepcopy(list(states))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.hyperparameters.items())
        shapes = ", ".join(str(p.shape) for p in self.params)
        return f"{type(self).__name__}([{shapes}], {args})"
