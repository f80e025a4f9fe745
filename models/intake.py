"""Intake of an uploaded model: infer what can be inferred, ask for the rest, build the model the pages use.

:func:`inspect` looks at a loaded Keras model and returns an :class:`Intake`:
input size and channels, value scaling, channel order, which output to explain
and what it is (softmax, logits, a single sigmoid or a single logit), and the
layer for CAM methods, each with the reason it was chosen.  The user may
correct any field; :func:`prepare_model` then builds the model every page
works on:

* one image input ``(H, W, C)`` (a model whose input size is unknown, or a
  Sequential model that was never built, is built at the size given);
* one output, the chosen one, always *probabilities*: logits get a ``Softmax``
  layer; a single sigmoid ``p = σ(z)`` becomes two classes ``(1 − p, p)`` via
  ``softmax([−z/2, z/2])`` (exact, since ``softmax([−z/2, z/2])₁ = σ(z)``), so
  the logit model of the result is ``[−z/2, z/2]``.

Only built-in Keras layers are added, so the result saves and reloads in safe
mode.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

SCALINGS = {
    "unit": "[0, 1]",
    "byte": "[0, 255]",
    "symmetric": "[-1, 1]",
    "meanstd": "(x − mean) / std, x in [0, 1]",
}
OUTPUT_KINDS = {
    "softmax": "probabilities (softmax)",
    "logits": "logits (a softmax is added)",
    "sigmoid": "one sigmoid unit: two classes, 1 − p and p",
    "logit1": "one raw score z: two classes, σ(−z) and σ(z)",
}
CHANNEL_ORDERS = ("RGB", "BGR")


class IntakeError(ValueError):
    """The model (or a chosen setting) cannot be used; the message says why and what to do."""


@dataclass
class Intake:
    """Everything needed to feed images to an uploaded model and read its output."""

    input_shape: list[int] | None  # [H, W, C]
    scaling: str = "unit"
    mean: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    std: list[float] = field(default_factory=lambda: [1.0, 1.0, 1.0])
    channel_order: str = "RGB"
    output_index: int = 0
    output_kind: str = "softmax"
    cam_layer: str | None = None
    n_classes: int = 0
    # what was found (not settable)
    n_outputs: int = 1
    output_shapes: list = field(default_factory=list)
    reasons: dict = field(default_factory=dict)
    unsupported: list = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Intake:
        fields = cls.__dataclass_fields__
        return cls(**{k: v for k, v in d.items() if k in fields})

    def value_range(self) -> tuple[float, float]:
        """The range of the model's input values (for display and clipping)."""
        if self.scaling == "byte":
            return 0.0, 255.0
        if self.scaling == "symmetric":
            return -1.0, 1.0
        if self.scaling == "meanstd":
            c = self.channels
            m = np.asarray(self.mean[:c], float)
            s = np.asarray(self.std[:c], float)
            return float(np.min(-m / s)), float(np.max((1 - m) / s))
        return 0.0, 1.0

    @property
    def channels(self) -> int:
        return int(self.input_shape[2]) if self.input_shape else 0

    def describe_scaling(self) -> str:
        if self.scaling == "meanstd":
            c = self.channels
            return f"(x − {self.mean[:c]}) / {self.std[:c]} with x in [0, 1]"
        return SCALINGS.get(self.scaling, self.scaling)


def _shape(t) -> tuple:
    return tuple(t.shape)


def _unbuilt_sequential(model) -> bool:
    import keras

    return isinstance(model, keras.Sequential) and getattr(model, "_functional", None) is None


def _scaling_from_layers(graph) -> tuple[str, str] | None:
    """Look for a Rescaling / Normalization layer near the input."""
    for node in graph.nodes[:6]:
        t = node.type_name
        if t == "Rescaling":
            scale = float(np.mean(np.asarray(node.layer.scale)))
            offset = float(np.mean(np.asarray(node.layer.offset)))
            if scale < 0.02:
                return "byte", (f"the model starts with Rescaling(scale={scale:.4g}, offset={offset:g}) "
                                f"('{node.key}'), so it takes values in [0, 255]")
            return "unit", f"the model starts with Rescaling(scale={scale:.4g}) ('{node.key}')"
        if t == "Normalization":
            mean = np.asarray(getattr(node.layer, "mean", 0.0), float)
            if float(np.max(np.abs(mean))) > 2:
                return "byte", f"the model starts with a Normalization layer ('{node.key}') with means above 2"
            return "unit", f"the model starts with a Normalization layer ('{node.key}')"
    return None


def _scaling_from_samples(x: np.ndarray | None) -> tuple[str, str] | None:
    if x is None or not len(x):
        return None
    lo, hi = float(np.min(x)), float(np.max(x))
    if lo < -0.05 and hi <= 1.05 and lo >= -1.05:
        return "symmetric", f"the uploaded x lies in [{lo:.3g}, {hi:.3g}]"
    if hi > 1.5:
        return "byte", f"the uploaded x lies in [{lo:.3g}, {hi:.3g}]"
    if lo < -0.05:
        return "meanstd", f"the uploaded x lies in [{lo:.3g}, {hi:.3g}] (standardised?)"
    return "unit", f"the uploaded x lies in [{lo:.3g}, {hi:.3g}]"


def inspect(model, samples_x: np.ndarray | None = None) -> Intake:
    """Infer the intake settings of ``model`` (see the module docstring).

    Raises:
        IntakeError: for models KernelScope cannot explain at all (several
            image inputs, channels-first inputs, subclassed models, no 2-D
            output), with the reason.
    """
    reasons: dict[str, str] = {}
    unsupported: list[str] = []
    if _unbuilt_sequential(model):
        first = model.layers[0] if model.layers else None
        shape = getattr(first, "_build_shapes_dict", None) or {}
        unsupported.append("the Sequential model was saved before it was ever called, so it has no "
                           "input size and its weights are not trained values; enter the input size")
        hw = None
        if shape:
            s = list(shape.values())[0]
            if s and len(s) == 4:
                hw = [s[1], s[2], s[3]]
        intake = Intake(input_shape=hw, reasons={"input_shape": "unknown: the model was never built"},
                        unsupported=unsupported)
        return intake
    inputs = getattr(model, "inputs", None)
    if not inputs:
        raise IntakeError("the model has no symbolic inputs (a subclassed model?); KernelScope needs a "
                          "Functional or Sequential model")
    if len(inputs) > 1:
        raise IntakeError(
            f"the model has {len(inputs)} inputs; KernelScope explains models with one image input. "
            "Save a model that takes only the image (e.g. keras.Model(image_input, outputs) with the other "
            "inputs fixed inside it)"
        )
    shape = _shape(inputs[0])
    if len(shape) != 4:
        raise IntakeError(f"the model's input has shape {shape}; KernelScope needs images (batch, H, W, C)")
    _, h, w, c = shape
    if c is None or c not in (1, 3) and h in (1, 3):
        raise IntakeError(f"the input {shape} looks channels-first; KernelScope needs channels-last (N, H, W, C)")
    if c not in (1, 3):
        raise IntakeError(f"the model takes {c} channels; KernelScope supports grayscale (1) and colour (3) images")
    input_shape = [h, w, c] if h and w else None
    reasons["input_shape"] = ("from the model's input layer" if input_shape else
                              "the model accepts any size; enter the size it was trained on")
    outputs = list(model.outputs)
    if len(outputs) > 1:
        unsupported.append(f"the model has {len(outputs)} outputs; one is explained at a time (choose it "
                           "below); outputs that are not (batch, K) vectors cannot be chosen")
    intake = Intake(input_shape=input_shape, n_outputs=len(outputs),
                    output_shapes=[list(_shape(t)) for t in outputs], reasons=reasons, unsupported=unsupported)
    if input_shape:
        refine(model, intake, samples_x)
    return intake


def sized_model(model, input_shape):
    """``model`` with a known input size: builds a never-built Sequential, wraps a size-agnostic model."""
    import keras

    shape = tuple(int(v) for v in input_shape)
    if _unbuilt_sequential(model):
        model.build((None, *shape))
        if getattr(model, "_functional", None) is None:
            raise IntakeError("the Sequential model could not be built at the given input size")
        return model
    have = _shape(model.inputs[0])[1:]
    if any(d is None for d in have[:2]):
        inp = keras.Input(shape, name="image")
        return keras.Model(inp, model(inp), name=f"{model.name}_sized")
    if tuple(have) != shape:
        raise IntakeError(f"the model's input is {tuple(have)}; it cannot take {shape}. "
                          "Set the input size to the model's")
    return model


def refine(model, intake: Intake, samples_x: np.ndarray | None = None) -> Intake:
    """Fill in outputs, output kind, scaling and CAM layer (needs ``intake.input_shape``)."""
    import keras

    from xai_core.graph import flatten
    from xai_core.heads import detect_head

    sized = sized_model(model, intake.input_shape)
    outputs = list(sized.outputs)
    intake.n_outputs = len(outputs)
    intake.output_shapes = [list(_shape(t)) for t in outputs]
    usable = [j for j, s in enumerate(intake.output_shapes) if len(s) == 2 and s[1]]
    if not usable:
        raise IntakeError(f"no output of the model is a vector of class scores (shapes {intake.output_shapes}); "
                          "segmentation and detection models are not supported")
    if intake.output_index not in usable:
        intake.output_index = usable[0]
    i = intake.output_index
    single = sized if len(outputs) == 1 else keras.Model(sized.inputs, outputs[i])
    head = detect_head(flatten(single))
    k = int(intake.output_shapes[i][1])
    if head.kind == "softmax":
        kind, why = "softmax", head.describe()
    elif head.kind == "sigmoid" and k == 1:
        kind, why = "sigmoid", head.describe() + "; one unit: read as two classes (1 − p, p)"
    elif k == 1:
        kind, why = "logit1", "one output unit without a sigmoid: read as the logit z of two classes"
    else:
        kind, why = "logits", head.describe()
        if head.kind == "sigmoid":
            intake.unsupported.append(f"the output is {k} independent sigmoids (multi-label); they are "
                                      "read as logits of one softmax, which changes their meaning")
    intake.output_kind = kind
    intake.reasons["output_kind"] = why
    intake.n_classes = 2 if kind in ("sigmoid", "logit1") else k
    found = _scaling_from_layers(flatten(single)) or _scaling_from_samples(samples_x)
    if found:
        intake.scaling, intake.reasons["scaling"] = found
    else:
        intake.reasons["scaling"] = ("no Rescaling or Normalization layer and no sample array to look at; "
                                     "assumed [0, 1]: change it if the model was trained on another range")
    intake.reasons["channel_order"] = "cannot be inferred; RGB assumed (choose BGR for Caffe-style models)"
    candidates = cam_candidates(flatten(prepare_model(model, intake)))
    intake.cam_layer = candidates[-1] if candidates else None
    intake.reasons["cam_layer"] = ("the last layer with a spatial (H×W with H·W > 1) output" if candidates else
                                   "no layer has a spatial output; CAM methods do not apply")
    return intake


def cam_candidates(graph) -> list[str]:
    """Keys of layers whose output is a feature map ``(N, H, W, C)`` with ``H·W > 1``."""
    out = []
    for node in graph.nodes:
        if len(node.outputs) != 1:
            continue
        s = tuple(node.outputs[0].shape)
        if len(s) == 4 and s[1] and s[2] and s[1] * s[2] > 1 and node.type_name != "InputLayer":
            out.append(node.key)
    return out


def validate(intake: Intake) -> Intake:
    """Check user-edited settings; raise :class:`IntakeError` naming the bad field."""
    if not intake.input_shape or len(intake.input_shape) != 3:
        raise IntakeError("the input size is unknown; enter height, width and channels")
    h, w, c = intake.input_shape
    for name, v, lo, hi in (("height", h, 2, 4096), ("width", w, 2, 4096)):
        if not isinstance(v, (int, np.integer)) or not lo <= v <= hi:
            raise IntakeError(f"input {name} must be a whole number from {lo} to {hi}, got {v!r}")
    if c not in (1, 3):
        raise IntakeError(f"channels must be 1 or 3, got {c!r}")
    if intake.scaling not in SCALINGS:
        raise IntakeError(f"scaling must be one of {', '.join(SCALINGS)}, got {intake.scaling!r}")
    if intake.scaling == "meanstd":
        if len(intake.mean) < c or len(intake.std) < c:
            raise IntakeError(f"give {c} mean and {c} std value(s), one per channel")
        if any(not np.isfinite(s) or s <= 0 for s in intake.std[:c]):
            raise IntakeError("every std must be a positive number")
    if intake.channel_order not in CHANNEL_ORDERS:
        raise IntakeError(f"channel order must be RGB or BGR, got {intake.channel_order!r}")
    if intake.output_kind not in OUTPUT_KINDS:
        raise IntakeError(f"output kind must be one of {', '.join(OUTPUT_KINDS)}, got {intake.output_kind!r}")
    if not 0 <= intake.output_index < max(1, intake.n_outputs):
        raise IntakeError(f"output must be 0..{intake.n_outputs - 1}, got {intake.output_index}")
    return intake


def prepare_model(model, intake: Intake):
    """The single-input, single-output probability model the pages use (see the module docstring)."""
    import keras
    from keras import layers

    from xai_core.graph import flatten
    from xai_core.heads import detect_head, logits_model

    validate(intake)
    model = sized_model(model, intake.input_shape)
    outputs = list(model.outputs)
    if intake.output_index >= len(outputs):
        raise IntakeError(f"the model has {len(outputs)} output(s); output {intake.output_index} does not exist")
    out = outputs[intake.output_index]
    if len(_shape(out)) != 2:
        raise IntakeError(f"output {intake.output_index} has shape {_shape(out)}; choose a (batch, K) output")
    single = (model if len(outputs) == 1 else
              keras.Model(model.inputs, out, name=f"{model.name}_out{intake.output_index}"))
    k = int(_shape(out)[1])
    kind = intake.output_kind
    if kind == "softmax":
        return single
    if kind == "logits":
        return keras.Model(single.inputs, layers.Softmax(name="kernelscope_softmax")(single.outputs[0]),
                           name=f"{single.name}_softmax")
    if k != 1:
        raise IntakeError(f"'{OUTPUT_KINDS[kind]}' needs an output with one unit; output {intake.output_index} "
                          f"has {k}")
    if kind == "sigmoid":
        graph = flatten(single)
        head = detect_head(graph)
        if head.kind != "sigmoid":
            raise IntakeError("the chosen output does not end in a sigmoid; choose 'one raw score z' instead")
        base = logits_model(graph, head)
    else:
        base = single
    z = base.outputs[0]
    pair = layers.Concatenate(name="kernelscope_pair")([layers.Rescaling(-0.5, name="kernelscope_neg_half")(z),
                                                       layers.Rescaling(0.5, name="kernelscope_half")(z)])
    probs = layers.Softmax(name="kernelscope_softmax")(pair)
    return keras.Model(base.inputs, probs, name=f"{single.name}_two_class")


def preprocess(images: np.ndarray, intake: Intake) -> np.ndarray:
    """Images in [0, 1] with the model's size and channels -> model input (channel order, scaling)."""
    a = np.asarray(images, np.float32)
    c = a.shape[-1]
    if c == 3 and intake.channel_order == "BGR":
        a = a[..., ::-1]
    if intake.scaling == "byte":
        a = a * 255.0
    elif intake.scaling == "symmetric":
        a = a * 2.0 - 1.0
    elif intake.scaling == "meanstd":
        m = np.asarray(intake.mean[:c], np.float32)
        s = np.asarray(intake.std[:c], np.float32)
        if intake.channel_order == "BGR":
            m, s = m[::-1], s[::-1]
        a = (a - m) / s
    return np.ascontiguousarray(a, dtype=np.float32)


def unpreprocess(x: np.ndarray, intake: Intake) -> np.ndarray:
    """The inverse of :func:`preprocess`: model input -> image in [0, 1] (clipped), RGB order."""
    a = np.asarray(x, np.float32)
    c = a.shape[-1]
    if intake.scaling == "byte":
        a = a / 255.0
    elif intake.scaling == "symmetric":
        a = (a + 1.0) / 2.0
    elif intake.scaling == "meanstd":
        m = np.asarray(intake.mean[:c], np.float32)
        s = np.asarray(intake.std[:c], np.float32)
        if intake.channel_order == "BGR":
            m, s = m[::-1], s[::-1]
        a = a * s + m
    if c == 3 and intake.channel_order == "BGR":
        a = a[..., ::-1]
    return np.clip(a, 0.0, 1.0)
