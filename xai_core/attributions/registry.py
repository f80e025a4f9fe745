"""Every attribution method with its display name, paper and parameter specs.

The UI builds one control per :class:`ParamSpec` (a slider for numbers with
``min``/``max``/``step``, radio items for choices, a switch for booleans, a
layer menu for ``layer``) and :func:`make` validates the values it receives.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .base import Attribution
from .expected_gradients import ExpectedGradients
from .gradcam import GradCAM, GradCAMPlusPlus
from .gradient import Gradient, GradientInput, Saliency
from .guided_backprop import GuidedBackprop
from .integrated_gradients import BASELINES, RULES, IntegratedGradients
from .layer_sensitivity import LayerSensitivity
from .lighting import Lighting
from .occlusion import FILLS, Occlusion
from .smoothgrad import SmoothGrad, SquareGrad, VarGrad
from .taylor import Taylor
from .topk import TopK

GRADIENT_METHODS = ("saliency", "gradient", "gradient_input", "guided_backprop")


@dataclass(frozen=True)
class ParamSpec:
    """One option of a method.

    Attributes:
        name: Keyword argument of the method's constructor.
        label: Label in the UI.
        kind: ``int``, ``float``, ``choice``, ``bool`` or ``layer`` (a key of
            the model's spatial layers; ``None`` means the last one).
        default, min, max, step: For numbers.
        choices: For ``choice``.
        help: One sentence for the UI.
    """

    name: str
    label: str
    kind: str
    default: object
    min: float | None = None
    max: float | None = None
    step: float | None = None
    choices: tuple = ()
    help: str = ""

    def validate(self, value):
        """The value converted to the right type, or a ``ValueError`` naming the valid range."""
        if self.kind in ("int", "float"):
            try:
                v = float(value)
            except (TypeError, ValueError):
                raise ValueError(f"{self.label} must be a number from {self.min:g} to {self.max:g}, "
                                 f"got {value!r}") from None
            if not (self.min <= v <= self.max) or (self.kind == "int" and not v.is_integer()):
                kind = "whole number" if self.kind == "int" else "number"
                raise ValueError(f"{self.label} must be a {kind} from {self.min:g} to {self.max:g}, got {value!r}")
            return int(v) if self.kind == "int" else v
        if self.kind == "choice":
            if value not in self.choices:
                raise ValueError(f"{self.label} must be one of {', '.join(map(str, self.choices))}, got {value!r}")
            return value
        if self.kind == "bool":
            return bool(value)
        if self.kind == "layer":
            return value or None
        raise ValueError(f"unknown parameter kind {self.kind!r}")


@dataclass(frozen=True)
class MethodSpec:
    """A registered method.

    Attributes:
        key: Registry key.
        label: Display name.
        cls: The :class:`Attribution` subclass.
        params: Its options.
        reference: Short citation.
        sums_to_delta: The map should sum to ``f(x) − f(baseline)``
            (completeness), so the residual is a meaningful score.
        slow: Costs many model evaluations per image (the UI runs it in the background).
    """

    key: str
    label: str
    cls: type
    params: tuple[ParamSpec, ...] = field(default_factory=tuple)
    reference: str = ""
    sums_to_delta: bool = False
    slow: bool = False

    def defaults(self) -> dict:
        return {p.name: p.default for p in self.params}


_STEPS = ParamSpec("steps", "Steps", "int", 32, 4, 256, 4, help="Quadrature steps along the path.")
_SAMPLES = ParamSpec("samples", "Samples", "int", 16, 2, 128, 2, help="Noisy copies averaged.")
_NOISE = ParamSpec("noise", "Noise σ", "float", 0.1, 0.0, 0.5, 0.01, help="Noise std as a fraction of the range.")
_INNER = ParamSpec("method", "Wrapped method", "choice", "gradient", choices=GRADIENT_METHODS,
                   help="The gradient method evaluated on every noisy copy.")
_LAYER = ParamSpec("layer", "Layer", "layer", None, help="Layer whose feature maps are used (last one by default).")
_RELU = ParamSpec("relu", "ReLU clamp", "bool", True, help="Off shows negative evidence too.")
_PATCH = ParamSpec("patch", "Patch", "int", 4, 1, 16, 1, help="Side of the square patch in pixels.")
_STRIDE = ParamSpec("stride", "Stride", "int", 2, 1, 16, 1, help="Step between patches in pixels.")

METHODS: dict[str, MethodSpec] = {m.key: m for m in (
    MethodSpec("saliency", "Saliency", Saliency, reference="Simonyan et al. 2014"),
    MethodSpec("gradient", "Gradient", Gradient, reference="Simonyan et al. 2014"),
    MethodSpec("gradient_input", "Gradient × Input", GradientInput, reference="Shrikumar et al. 2016"),
    MethodSpec("taylor", "Taylor (filtered root)", Taylor, (
        ParamSpec("filter", "Root-point filter", "choice", "gaussian", choices=("gaussian", "sharpness", "nearest")),
        ParamSpec("sigma", "Filter σ", "float", 1.0, 0.0, 8.0, 0.1, help="Strength of the root-point filter."),
    ), "Montavon et al. 2017", sums_to_delta=True),
    MethodSpec("integrated_gradients", "Integrated Gradients", IntegratedGradients, (
        _STEPS,
        ParamSpec("baseline", "Baseline", "choice", "black", choices=BASELINES,
                  help="black, the Gaussian-blurred root point, or uniform noise."),
        ParamSpec("rule", "Quadrature", "choice", "trapezoid", choices=RULES),
        ParamSpec("sigma", "Root blur σ", "float", 2.0, 0.5, 8.0, 0.1, help="Blur of the root-point baseline."),
    ), "Sundararajan et al. 2017", sums_to_delta=True),
    MethodSpec("smoothgrad", "SmoothGrad", SmoothGrad, (_INNER, _SAMPLES, _NOISE), "Smilkov et al. 2017"),
    MethodSpec("vargrad", "VarGrad", VarGrad, (_INNER, _SAMPLES, _NOISE), "Adebayo et al. 2018"),
    MethodSpec("squaregrad", "SquareGrad", SquareGrad, (_INNER, _SAMPLES, _NOISE), "Hooker et al. 2019"),
    MethodSpec("gradcam", "Grad-CAM", GradCAM, (_LAYER, _RELU), "Selvaraju et al. 2017"),
    MethodSpec("gradcampp", "Grad-CAM++", GradCAMPlusPlus, (_LAYER, _RELU), "Chattopadhay et al. 2018"),
    MethodSpec("occlusion", "Occlusion", Occlusion, (
        _PATCH, _STRIDE, ParamSpec("fill", "Fill", "choice", "zero", choices=FILLS,
                                   help="zero is black: the low end of the model's input range."),
    ), "Zeiler & Fergus 2014", slow=True),
    MethodSpec("lighting", "Lighting", Lighting, (
        ParamSpec("patch", "Patch", "int", 1, 1, 16, 1, help="Side of the lit patch (stride = patch)."),
    ), "after Zeiler & Fergus 2014", slow=True),
    MethodSpec("expected_gradients", "Expected Gradients", ExpectedGradients, (
        ParamSpec("samples", "Samples", "int", 32, 4, 256, 4, help="(baseline, α) draws per image."),
    ), "Erion et al. 2021", sums_to_delta=False),
    MethodSpec("guided_backprop", "Guided Backprop", GuidedBackprop, reference="Springenberg et al. 2015"),
    MethodSpec("topk", "Top-k pixels", TopK, (
        ParamSpec("k", "k", "int", 20, 1, 400, 1, help="Number of pixels in the mask."),
        ParamSpec("method", "Ranked by", "choice", "saliency", choices=GRADIENT_METHODS),
    ), "Simonyan et al. 2014"),
    MethodSpec("layer_sensitivity", "Layer sensitivity", LayerSensitivity, (
        _LAYER, ParamSpec("channel", "Channel", "int", -1, -1, 511, 1, help="-1 sums every channel."),
    ), "Simonyan et al. 2014"),
)}


def method_spec(key: str) -> MethodSpec:
    try:
        return METHODS[key]
    except KeyError:
        raise ValueError(f"unknown method {key!r}; valid methods are: {', '.join(METHODS)}") from None


def method_class(key: str) -> type[Attribution]:
    return method_spec(key).cls


def validate_params(key: str, params: dict | None) -> dict:
    """Defaults overridden by ``params`` (unknown names rejected), each value validated."""
    spec = method_spec(key)
    params = dict(params or {})
    unknown = set(params) - {p.name for p in spec.params}
    if unknown:
        raise ValueError(f"{spec.label} has no parameter(s) {', '.join(sorted(unknown))}")
    return {p.name: p.validate(params.get(p.name, p.default)) for p in spec.params}


def make(key: str, model, params: dict | None = None, *, background=None, **options) -> Attribution:
    """Build method ``key`` on ``model`` with validated ``params``.

    Args:
        background: Images for :class:`ExpectedGradients` baselines.
        options: ``batch_size``, ``seed``, ``value_range``.
    """
    spec = method_spec(key)
    kwargs = validate_params(key, params)
    if spec.cls is ExpectedGradients:
        kwargs["background"] = background
    return spec.cls(model, **kwargs, **options)
