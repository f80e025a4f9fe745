"""Loading an untrusted Keras model file without running its code.

A Keras model file can name Python code: a ``Lambda`` layer stores a
(marshalled) function, and a custom layer names a class that ``load_model``
would import and instantiate.  :func:`check_model_file` reads the model's
configuration *before* Keras deserialises anything and refuses both, with a
message that says why and what to do; :func:`load_model_file` then loads the
file with ``safe_mode=True`` as a second line of defence.  Every failure is a
:class:`ModelLoadError` whose message can be shown to the user as it is.

Accepted: ``.keras`` (Keras 3, a zip holding ``config.json`` and the weights)
and legacy ``.h5`` / ``.hdf5`` (HDF5 with a ``model_config`` attribute).
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

MODEL_EXTENSIONS = (".keras", ".h5", ".hdf5")
ZIP_MAGIC = b"PK\x03\x04"
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
KNOWN_MODEL_CLASSES = {"Functional", "Sequential", "Model"}

LAMBDA_HELP = (
    "a Lambda layer stores Python code, and KernelScope never runs code from an uploaded file "
    "(Keras safe mode). Replace the Lambda by built-in layers (e.g. Rescaling, Activation, "
    "Normalization), or move the preprocessing out of the model and set it in the intake form, "
    "then save the model again"
)
CUSTOM_HELP = (
    "KernelScope loads only built-in Keras layers, because loading a custom class would run "
    "code from the file. Rebuild the model from built-in layers, or export a copy in which the "
    "custom layer is replaced by its built-in equivalent, and save it again"
)


class ModelLoadError(ValueError):
    """The uploaded model cannot be used; the message says why and what to do."""


def model_kind(data_head: bytes, filename: str) -> str:
    """``"keras"`` or ``"h5"`` from the file's extension, checked against its first bytes.

    Raises:
        ModelLoadError: unknown extension, or content that does not match it.
    """
    name = Path(filename or "").name
    ext = Path(name.lower()).suffix
    if ext not in MODEL_EXTENSIONS:
        raise ModelLoadError(
            f"'{name or 'the file'}' is not a Keras model file; upload a .keras (Keras 3) or a legacy .h5 file"
        )
    expected = "keras" if ext == ".keras" else "h5"
    magic = ZIP_MAGIC if expected == "keras" else HDF5_MAGIC
    if data_head[: len(magic)] == magic:
        return expected
    if not data_head:
        raise ModelLoadError(f"'{name}' is empty")
    text = data_head[:512].lstrip().lower()
    if text.startswith((b"<!doctype html", b"<html", b"<?xml", b"<head")):
        raise ModelLoadError(
            f"'{name}' is an HTML page, not a model (perhaps a download link saved an error or login "
            "page); download the model file itself and upload it again"
        )
    other = "h5" if expected == "keras" else "keras"
    other_magic = HDF5_MAGIC if other == "h5" else ZIP_MAGIC
    if data_head[: len(other_magic)] == other_magic:
        real = ".h5 (HDF5)" if other == "h5" else ".keras (zip)"
        raise ModelLoadError(f"'{name}' is really a {real} file; rename it to that extension and upload again")
    fmt = "a .keras file (a zip archive)" if expected == "keras" else "an HDF5 file"
    raise ModelLoadError(f"'{name}' is not {fmt}: its first bytes are not a model file's; "
                         "the file is corrupt or not a Keras model")


def read_config(path: Path, kind: str, name: str) -> dict:
    """The model's architecture as a dict, read without deserialising anything."""
    if kind == "keras":
        try:
            with zipfile.ZipFile(path) as zf:
                names = set(zf.namelist())
                if "config.json" not in names:
                    raise ModelLoadError(f"'{name}' is a zip file but not a Keras model (no config.json inside)")
                info = zf.getinfo("config.json")
                if info.file_size > 64 * 2**20:
                    raise ModelLoadError(f"'{name}' has an implausibly large config.json ({info.file_size} bytes)")
                raw = zf.read("config.json")
                if not any(n.endswith(".weights.h5") or n.endswith(".npz") for n in names):
                    raise ModelLoadError(f"'{name}' holds no weights (model.weights.h5 is missing)")
        except zipfile.BadZipFile:
            raise ModelLoadError(f"'{name}' is truncated or corrupt (not a complete zip archive); "
                                 "upload the file again") from None
        except (OSError, EOFError, zipfile.LargeZipFile) as exc:
            raise ModelLoadError(f"'{name}' is truncated or corrupt ({exc}); upload the file again") from None
    else:
        import h5py

        try:
            with h5py.File(path, "r") as f:
                raw = f.attrs.get("model_config")
                if raw is None:
                    raise ModelLoadError(
                        f"'{name}' holds weights only (no model_config); save the whole model with "
                        "model.save('model.keras') and upload that"
                    )
        except OSError as exc:
            raise ModelLoadError(f"'{name}' is truncated or corrupt ({exc}); upload the file again") from None
        if isinstance(raw, bytes):
            raw = raw.decode("utf-8", "replace")
    try:
        return json.loads(raw)
    except (ValueError, TypeError):
        raise ModelLoadError(f"'{name}' has a corrupt model configuration (not JSON)") from None


def _walk_objects(node, in_layers: bool = False):
    """Yield ``(dict, is_layer)`` for every serialised object in a config tree."""
    if isinstance(node, dict):
        if "class_name" in node and isinstance(node.get("class_name"), str):
            yield node, in_layers
        for key, value in node.items():
            yield from _walk_objects(value, key == "layers")
    elif isinstance(node, list):
        for value in node:
            yield from _walk_objects(value, in_layers)


def check_config(config: dict, name: str) -> None:
    """Refuse Lambda layers and custom (non-Keras) classes, naming the layer.

    Raises:
        ModelLoadError: with the reason and what to do.
    """
    import keras

    objects = list(_walk_objects(config))
    if objects and objects[0][0] is config:
        objects[0] = (config, True)  # the model itself
    for obj, is_layer in objects:
        cls = obj["class_name"]
        if cls.startswith("__"):
            continue  # tensors, tuples and other internal markers
        layer_name = (obj.get("config") or {}).get("name") if isinstance(obj.get("config"), dict) else None
        where = f" (layer '{layer_name}')" if layer_name else ""
        if cls == "Lambda":
            raise ModelLoadError(f"'{name}' contains a Lambda layer{where}: {LAMBDA_HELP}")
        module = obj.get("module")
        registered = obj.get("registered_name") or ""
        custom = (isinstance(registered, str) and ">" in registered) or (
            isinstance(module, str) and module and not module.startswith("keras"))
        if not custom and is_layer and module is None:
            custom = not (cls in KNOWN_MODEL_CLASSES or hasattr(keras.layers, cls))
        if custom:
            what = registered if ">" in str(registered) else cls
            raise ModelLoadError(f"'{name}' uses the custom class '{what}'{where}, which is not part of Keras: "
                                 f"{CUSTOM_HELP}")


def check_model_file(path: Path, filename: str | None = None) -> str:
    """Check an untrusted model file without loading it; return its kind (``keras``/``h5``)."""
    path = Path(path)
    name = Path(filename or path.name).name
    with open(path, "rb") as f:
        head = f.read(1024)
    kind = model_kind(head, name)
    check_config(read_config(path, kind, name), name)
    return kind


def load_model_file(path: Path, filename: str | None = None):
    """Check, then load an untrusted model file with ``safe_mode=True`` (no compile).

    Raises:
        ModelLoadError: for any reason the file cannot be used, with a message for the user.
    """
    import keras

    path = Path(path)
    name = Path(filename or path.name).name
    kind = check_model_file(path, name)
    # keras picks the loader by extension; the stored file may have any name
    if kind == "keras" and path.suffix != ".keras" or kind == "h5" and path.suffix not in (".h5", ".hdf5"):
        raise ModelLoadError(f"internal: stored model {path.name} has the wrong extension for a {kind} file")
    try:
        model = keras.saving.load_model(path, compile=False, safe_mode=True)
    except ModelLoadError:
        raise
    except Exception as exc:  # noqa: BLE001 - Keras raises many types for bad files
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "Lambda" in text:
            raise ModelLoadError(f"'{name}' contains a Lambda layer: {LAMBDA_HELP}") from None
        if "could not be deserialized" in text or "Could not locate" in text or "Unknown layer" in text:
            raise ModelLoadError(f"'{name}' uses a class Keras does not know: {CUSTOM_HELP}") from None
        raise ModelLoadError(f"Keras could not load '{name}': {text[:300]}") from None
    if not isinstance(model, keras.Model):
        raise ModelLoadError(f"'{name}' does not hold a Keras model")
    return model
