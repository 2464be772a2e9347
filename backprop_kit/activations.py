"""Activation functions: each one's value and derivative side by side.

An activation ``f`` turns a layer's pre-activation ``z`` into its output ``a = f(z)``.
The backward pass needs ``f'(z)``; where the textbook writes it in terms of the
output (``sigmoid' = a (1 - a)``, ``tanh' = 1 - a**2``) we do the same, so every
derivative takes both ``z`` and ``a``.

    >>> import numpy as np
    >>> from backprop_kit import activations
    >>> act = activations.get("tanh")
    >>> z = np.array([[-2.0, 0.0, 2.0]])
    >>> a = act.value(z)
    >>> act.derivative(z, a).round(3)
    array([[0.071, 1.   , 0.071]])
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from . import _checks

LEAKY_SLOPE = 0.01


# --- the functions: value f(z), derivative f'(z) -------------------------------

def relu(z):
    """f(z) = max(0, z)"""
    return np.maximum(z, 0.0)


def relu_derivative(z, a):
    """f'(z) = 1 if z > 0 else 0"""
    return (z > 0).astype(z.dtype)


def leaky_relu(z):
    """f(z) = z if z > 0 else 0.01 z"""
    return np.where(z > 0, z, LEAKY_SLOPE * z)


def leaky_relu_derivative(z, a):
    """f'(z) = 1 if z > 0 else 0.01"""
    return np.where(z > 0, 1.0, LEAKY_SLOPE).astype(z.dtype)


def elu(z):
    """f(z) = z if z > 0 else exp(z) - 1: relu's shape, but smooth, with negative outputs down to -1"""
    return np.where(z > 0, z, np.expm1(np.minimum(z, 0.0)))


def elu_derivative(z, a):
    """f'(z) = 1 if z > 0 else exp(z) = a + 1 (in terms of the output): never 0, so no unit dies"""
    return np.where(z > 0, 1.0, a + 1.0).astype(z.dtype)


def sigmoid(z):
    """f(z) = 1 / (1 + exp(-z)), computed as exp(-log(1 + exp(-z))): never overflows, and keeps
    full precision far into the tail (sigmoid(-40) = 4.2e-18, not 0)."""
    return np.exp(-np.logaddexp(0.0, -z))


def sigmoid_derivative(z, a):
    """f'(z) = a (1 - a): at most 0.25, and nearly 0 once |z| > 5 (saturation)."""
    return a * (1.0 - a)


def tanh(z):
    """f(z) = tanh(z) = (exp(z) - exp(-z)) / (exp(z) + exp(-z))"""
    return np.tanh(z)


def tanh_derivative(z, a):
    """f'(z) = 1 - a**2: at most 1 (at z = 0), nearly 0 once |z| > 3."""
    return 1.0 - a * a


def linear(z):
    """f(z) = z"""
    return z


def linear_derivative(z, a):
    """f'(z) = 1"""
    return np.ones_like(z)


def softmax(z):
    """f(z)_j = exp(z_j) / sum_k exp(z_k) over each row; shifted by the row max so exp never overflows."""
    shifted = np.exp(z - z.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def softmax_backward(z, a, grad_a):
    """dL/dz = a * (dL/da - sum_k dL/da_k a_k): the softmax Jacobian (diag(a) - a a^T) applied to dL/da."""
    return a * (grad_a - np.sum(grad_a * a, axis=1, keepdims=True))


# --- the registry -----------------------------------------------------------

@dataclass(frozen=True)
class Activation:
    """An activation: ``value(z) -> a`` and ``derivative(z, a) -> f'(z)``, elementwise.

    ``backward(z, a, grad_a) -> grad_z`` turns dL/da into dL/dz; for elementwise
    activations that is ``grad_a * f'(z)``, for softmax the Jacobian product.
    """

    name: str
    value: Callable[[np.ndarray], np.ndarray]
    derivative: Callable[[np.ndarray, np.ndarray], np.ndarray] | None
    formula: str
    hidden: bool = True   # False: only allowed as the output layer (softmax)
    custom_backward: Callable | None = None

    def backward(self, z: np.ndarray, a: np.ndarray, grad_a: np.ndarray) -> np.ndarray:
        if self.custom_backward is not None:
            return self.custom_backward(z, a, grad_a)
        return grad_a * self.derivative(z, a)


REGISTRY: dict[str, Activation] = {
    "relu": Activation("relu", relu, relu_derivative, "max(0, z)"),
    "leaky_relu": Activation("leaky_relu", leaky_relu, leaky_relu_derivative, "z if z > 0 else 0.01 z"),
    "elu": Activation("elu", elu, elu_derivative, "z if z > 0 else exp(z) - 1"),
    "sigmoid": Activation("sigmoid", sigmoid, sigmoid_derivative, "1 / (1 + exp(-z))"),
    "tanh": Activation("tanh", tanh, tanh_derivative, "tanh(z)"),
    "linear": Activation("linear", linear, linear_derivative, "z"),
    "softmax": Activation("softmax", softmax, None, "exp(z_j) / sum_k exp(z_k)",
                          hidden=False, custom_backward=softmax_backward),
}

HIDDEN = tuple(name for name, act in REGISTRY.items() if act.hidden)
OUTPUT = tuple(REGISTRY)


def get(name: str, *, argument: str = "activation", output: bool = False) -> Activation:
    """Look up an activation by name; ``output=True`` also accepts 'softmax'."""
    _checks.choice(argument, name, OUTPUT if output else HIDDEN)
    return REGISTRY[name]
