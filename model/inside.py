"""Look inside the network for one digit, with ONNX Runtime only (no TensorFlow).

`Inspector` reads a model folder's `model.onnx`, finds its parts in the graph itself
(every convolution's activation, the penultimate "embedding", the logits, the softmax
and the first layer's filters), and builds one ONNX Runtime session whose graph
outputs include those intermediate tensors. Nothing is hard-coded about layer names
or sizes, so any model folder the project trains works.

The saliency map is occlusion: grey squares of the picture are blanked out in one
batched call and the drop in the answer's logit margin is measured. It is faithful
(it is literally what the network does without that ink, with no gradient to
saturate in ReLU or max pooling) and cheap (about 200 small images in one run).
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model.files import ModelFileError, file_sha256, resolve_model_dir
from model.layout import one_blas_thread
from model.settings import SETTINGS

# Nodes a convolution's output flows through before its activation (unfused batch norm).
_PASS_THROUGH = {"BatchNormalization", "Add", "Mul", "Identity"}
_ACTIVATIONS = {"Relu", "LeakyRelu", "Elu", "Selu", "Sigmoid", "Tanh", "HardSigmoid", "Clip"}
_POOLS = {"MaxPool", "AveragePool", "GlobalMaxPool", "GlobalAveragePool"}
_DENSE = {"MatMul", "Gemm"}
OCCLUSION_PATCH = 5  # px of the 28x28 input: about one stroke's width plus its edges
OCCLUSION_STRIDE = 2  # a patch every 2 px: 14x14 = 196 occluded pictures in one batch
NEIGHBOURS = 5
_CHUNK = 2048  # images per run when computing features for a whole data set


class InsideError(ModelFileError):
    """The ONNX graph lacks a part the look-inside view needs (e.g. no softmax)."""


@dataclass(frozen=True)
class ConvLayer:
    """One convolution's activation in the graph: its Keras-style name and its block."""

    name: str  # e.g. "conv1_0"
    tensor: str  # the ONNX tensor (N, C, H, W) after the activation
    block: int  # 0-based: how many pooling layers come before it
    shape: tuple[int, int, int]  # (channels, height, width) for one image


@dataclass(frozen=True)
class Anatomy:
    """Where the parts of a classifier are in its ONNX graph."""

    input_name: str
    convs: tuple[ConvLayer, ...]
    embedding: str  # the penultimate activations: the input of the last dense layer
    embedding_name: str
    logits: str  # the softmax's input
    output: str  # the softmax


@dataclass(frozen=True)
class Look:
    """What one digit does inside the network."""

    image: np.ndarray  # (28, 28) float32 in [0, 1]: the input
    maps: tuple[tuple[ConvLayer, np.ndarray], ...]  # each convolution's (C, H, W) maps
    embedding: np.ndarray  # (D,) penultimate activations
    proba: np.ndarray  # (10,)
    saliency: np.ndarray  # (28, 28): how much each pixel supports the answer (signed)

    @property
    def digit(self) -> int:
        return int(self.proba.argmax())


def _keras_name(tensor: str, fallback: str) -> str:
    """'digit_cnn_1/conv0_0_1/convolution/merged_input:0' -> 'conv0_0' (tf2onnx naming).

    TensorFlow adds the same "_N" suffix to the model's scope and to each layer's, so
    the suffix is taken off only when the scope has it too.
    """
    parts = tensor.split("/")
    if len(parts) < 2:
        return fallback
    scope, layer = parts[0], parts[1]
    suffix = re.search(r"_\d+$", scope)
    if suffix and layer.endswith(suffix.group(0)):
        layer = layer[: -len(suffix.group(0))]
    return layer or fallback


def analyse(graph) -> tuple[str, list[tuple[str, str, int]], str, str, str, str]:
    """Find (input, [(conv name, activation tensor, block)], embedding, its name, logits,
    output) in an onnx GraphProto, from the operators alone."""
    initializers = {init.name for init in graph.initializer}
    inputs = [i.name for i in graph.input if i.name not in initializers]
    consumers: dict[str, list] = {}
    producers = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
        for name in node.output:
            producers[name] = node
    convs, pools = [], 0
    for node in graph.node:  # ONNX nodes are stored in topological order
        if node.op_type in _POOLS:
            pools += 1
        if node.op_type != "Conv":
            continue
        tensor, follow = node.output[0], node
        while len(consumers.get(tensor, [])) == 1:
            follow = consumers[tensor][0]
            if follow.op_type not in _PASS_THROUGH | _ACTIVATIONS:
                break
            tensor = follow.output[0]
            if follow.op_type in _ACTIVATIONS:
                break
        name = _keras_name(node.input[1], node.name)
        convs.append((name, tensor, pools))
    output = graph.output[0].name
    node = producers.get(output)
    while node is not None and node.op_type == "Identity":
        node = producers.get(node.input[0])
    if node is None or node.op_type != "Softmax":
        raise InsideError("The model's ONNX graph does not end in a softmax, so the "
                          "look-inside view cannot read its probabilities.")
    logits = node.input[0]
    dense = producers.get(logits)
    while dense is not None and dense.op_type not in _DENSE:
        dense = producers.get(dense.input[0])
    if dense is None or not convs:
        raise InsideError("The model's ONNX graph has no convolution or no dense layer "
                          "before its softmax.")
    embedding = dense.input[0]
    source = producers.get(embedding)
    embedding_name = _keras_name(embedding, source.name if source else embedding)
    return inputs[0], convs, embedding, embedding_name, logits, output


class Inspector:
    """A model's ONNX graph with its intermediate tensors as outputs, in one session."""

    def __init__(self, onnx_path: Path) -> None:
        import onnx
        import onnxruntime as ort
        from onnx import numpy_helper

        model = onnx.load(str(onnx_path))
        input_name, convs, embedding, embedding_name, logits, output = analyse(model.graph)
        present = {o.name for o in model.graph.output}
        for tensor in [t for _, t, _ in convs] + [embedding, logits]:
            if tensor not in present:
                model.graph.output.append(
                    onnx.helper.make_tensor_value_info(tensor, onnx.TensorProto.FLOAT, None))
                present.add(tensor)
        weights = {init.name: init for init in model.graph.initializer}
        first_conv = next(n for n in model.graph.node if n.op_type == "Conv")
        # Batch norm is folded into these weights by the export: they are what the
        # network really multiplies the picture with.
        self.filters = numpy_helper.to_array(weights[first_conv.input[1]]).astype(np.float32)
        options = ort.SessionOptions()
        options.intra_op_num_threads = min(4, os.cpu_count() or 1)
        options.log_severity_level = 3
        # Threads that spin while waiting for work hold a core that the app's other
        # sessions need: measured on the busy 2-core machine, a look took 55 ms median
        # (p90 150 ms) with spinning and 20 ms (p90 31 ms) without.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(model.SerializeToString(), options,
                                             providers=["CPUExecutionProvider"])
        size = SETTINGS.image_size
        shapes = self._run([t for _, t, _ in convs], np.zeros((1, size, size), np.float32))
        self.anatomy = Anatomy(
            input_name=input_name,
            convs=tuple(ConvLayer(name, tensor, block, tuple(shape.shape[1:]))
                        for (name, tensor, block), shape in zip(convs, shapes, strict=True)),
            embedding=embedding, embedding_name=embedding_name, logits=logits, output=output)

    def _run(self, outputs: list[str], images: np.ndarray) -> list[np.ndarray]:
        x = np.asarray(images, np.float32)
        if x.ndim == 3:  # (N, 28, 28) -> the export's (N, 28, 28, 1)
            x = x[..., None]
        x = np.ascontiguousarray(x)
        return self._session.run(outputs, {self._input_name(): x})

    def _input_name(self) -> str:
        return self._session.get_inputs()[0].name

    def look(self, image: np.ndarray) -> Look:
        """Every block's maps, the embedding, the softmax and the occlusion saliency."""
        image = np.asarray(image, np.float32).reshape(SETTINGS.image_size, SETTINGS.image_size)
        a = self.anatomy
        names = [c.tensor for c in a.convs] + [a.embedding, a.logits, a.output]
        *maps, embedding, logits, proba = self._run(names, image[None])
        occluded, cover = occlusions(image)
        # A square over blank background changes nothing: only inked ones are run, the
        # others keep the picture's own logits (a drop of exactly 0).
        inked = (occluded != image[None]).any(axis=(1, 2))
        occluded_logits = np.repeat(logits, len(cover), axis=0)
        if inked.any():
            (occluded_logits[inked],) = self._run([a.logits], occluded[inked])
        saliency = occlusion_saliency(logits[0], occluded_logits, cover)
        return Look(image=image, maps=tuple((c, m[0]) for c, m in zip(a.convs, maps, strict=True)),
                    embedding=embedding[0], proba=proba[0], saliency=saliency)

    def features(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(penultimate activations (N, D), probabilities (N, 10)) for (N, 28, 28) in [0, 1]."""
        a = self.anatomy
        parts = [self._run([a.embedding, a.output], images[i : i + _CHUNK])
                 for i in range(0, len(images), _CHUNK)]
        return (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))


def occlusions(image: np.ndarray, patch: int = OCCLUSION_PATCH,
               stride: int = OCCLUSION_STRIDE) -> tuple[np.ndarray, np.ndarray]:
    """(copies of `image` each with one square blanked, (N, H, W) masks of the squares)."""
    size = image.shape[0]
    starts = range(-(patch // 2), size - patch // 2, stride)
    masks = []
    for y in starts:
        for x in starts:
            mask = np.zeros_like(image, dtype=bool)
            mask[max(y, 0) : y + patch, max(x, 0) : x + patch] = True
            masks.append(mask)
    cover = np.stack(masks)
    return np.where(cover, 0.0, image[None]).astype(np.float32), cover


def _margin(logits: np.ndarray, digit: int) -> np.ndarray:
    """How far the answer's logit is ahead of the best other digit's."""
    others = np.delete(np.atleast_2d(logits), digit, axis=1)
    return np.atleast_2d(logits)[:, digit] - others.max(axis=1)


def occlusion_saliency(logits: np.ndarray, occluded_logits: np.ndarray,
                       cover: np.ndarray) -> np.ndarray:
    """Per pixel: the mean drop of the answer's logit margin when a square over it is blanked.

    The margin, unlike the probability, does not saturate at 100 %, so a sure answer
    still shows which ink it rests on. Positive: that ink supports the answer.
    """
    digit = int(np.argmax(logits))
    drop = _margin(logits, digit)[0] - _margin(occluded_logits, digit)
    weight = cover.sum(axis=0)
    with one_blas_thread():
        total = np.tensordot(drop, cover.astype(np.float32), axes=1)
    return (total / np.maximum(weight, 1)).astype(np.float32)


def nearest(query: np.ndarray, bank: np.ndarray, k: int = NEIGHBOURS) -> np.ndarray:
    """Indices of the `k` rows of `bank` closest to `query` by cosine distance, closest first.

    Cosine rather than Euclidean: a thick and a thin stroke of the same shape differ
    mostly in the activations' overall size, not in their direction.
    """
    unit = bank / np.maximum(np.linalg.norm(bank, axis=1, keepdims=True), 1e-9)
    q = np.asarray(query, np.float32) / max(float(np.linalg.norm(query)), 1e-9)
    with one_blas_thread():
        scores = unit @ q
    top = np.argpartition(-scores, min(k, len(scores) - 1))[:k]
    return top[np.argsort(-scores[top], kind="stable")]


@functools.lru_cache(maxsize=4)
def _cached(path: str, fingerprint: str) -> Inspector:
    return Inspector(Path(path))


def load_inspector(model_dir: str | Path | None = None) -> Inspector:
    """The inspector of a model folder (default: the shipped model), cached per file content."""
    onnx_path = resolve_model_dir(model_dir) / SETTINGS.onnx_file
    if not onnx_path.is_file():
        raise ModelFileError(f"{onnx_path.parent} has no {SETTINGS.onnx_file}; looking inside "
                             "the network needs the ONNX export.")
    try:
        return _cached(str(onnx_path.resolve()), file_sha256(onnx_path))
    except ModelFileError:
        raise
    except Exception as exc:  # a corrupt or foreign file: one sentence
        raise ModelFileError(f"{onnx_path} cannot be opened for looking inside ({exc}).") from exc
