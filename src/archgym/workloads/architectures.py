"""Layer tables of public CNN architectures, written from their published configurations.

Each generator returns the list of every convolution of one network for a 224x224 RGB
input, in execution order, with fully connected layers written as 1x1 convolutions on a
1x1 input.  A row is a :class:`Layer` with the columns of a "corrected" table:

    K, C, Y, X, R, S, T, stride, pad, groups

* ``K`` output channels, ``C`` input channels (all of them, also for grouped convs);
* ``Y, X`` the INPUT height/width before padding, ``R, S`` the kernel height/width;
* ``T = 2`` for a depthwise conv (``groups == C`` == output channels).  Such a row keeps
  ``K = 1`` like the ConfuciuX tables do (one filter per channel) and ``C`` = channels;
  every other row has ``T = 1``;
* ``stride``, ``pad`` (symmetric zero padding) and ``groups`` as in the network.

The output size of a row is ``(Y + 2*pad - R) // stride + 1``; its MACs are
``C * Y' * X' * R * S`` for a depthwise row and ``K * (C / groups) * Y' * X' * R * S``
otherwise.

Sources (configurations are facts of the papers; no code was copied):

* AlexNet: Krizhevsky, "One weird trick for parallelizing CNNs", arXiv:1404.5997 (2014),
  the single-tower variant with 64-192-384-256-256 filters used by torchvision.
* VGG16: Simonyan & Zisserman, ICLR 2015, Table 1 configuration D.
* ResNet-18/-50: He et al., CVPR 2016, Table 1.  The bottleneck puts the stride on the
  3x3 conv ("ResNet v1.5", as torchvision and the ConfuciuX tables do).
* ResNeXt-50 32x4d: Xie et al., CVPR 2017, Table 1.
* Wide-ResNet-50-2: Zagoruyko & Komodakis, BMVC 2016 (bottleneck width doubled).
* MobileNet-V2 1.0: Sandler et al., CVPR 2018, Table 2.
* MnasNet 1.0: Tan et al., CVPR 2019, the searched model as released with the paper and
  as torchvision's ``mnasnet1_0`` (no squeeze-and-excitation).
* ShuffleNet-V2 1.0x: Ma et al., ECCV 2018, Table 5 and Fig. 3(c, d).
* SqueezeNet 1.0: Iandola et al., arXiv:1602.07360, Table 1 (Caffe ceil-mode pooling).
* GoogLeNet: Szegedy et al., CVPR 2015, Table 1 (inference network, no auxiliary heads).
* DenseNet-121/-161: Huang et al., CVPR 2017, Table 1 (BC variant, compression 0.5).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

COLUMNS = ("K", "C", "Y", "X", "R", "S", "T", "stride", "pad", "groups")


class Layer(NamedTuple):
    """One row of a corrected layer table (see the module docstring)."""

    K: int
    C: int
    Y: int
    X: int
    R: int
    S: int
    T: int
    stride: int
    pad: int
    groups: int


def _conv(
    layers: list[Layer],
    k: int,
    c: int,
    size: int,
    r: int,
    stride: int = 1,
    pad: int | None = None,
    groups: int = 1,
) -> int:
    """Append a square conv (k outputs, c inputs, r x r kernel) and return its output size.

    ``pad`` defaults to ``r // 2`` ("same" padding); a conv with ``groups == c == k``
    is recorded as depthwise (``T = 2``, ``K = 1``).
    """
    if pad is None:
        pad = r // 2
    if groups > 1 and groups == c == k:
        layers.append(Layer(1, c, size, size, r, r, 2, stride, pad, groups))
    else:
        layers.append(Layer(k, c, size, size, r, r, 1, stride, pad, groups))
    return (size + 2 * pad - r) // stride + 1


def _fc(layers: list[Layer], k: int, c: int) -> None:
    """Append a fully connected layer as a 1x1 conv on a 1x1 input."""
    _conv(layers, k, c, 1, 1, pad=0)


def _pool(size: int, r: int, stride: int, pad: int = 0, ceil: bool = False) -> int:
    """Output size of a pooling window (no layer is recorded for pooling)."""
    span = size + 2 * pad - r
    return (-(-span // stride) if ceil else span // stride) + 1


# ----------------------------------------------------------------------------- plain nets


def alexnet() -> list[Layer]:
    """AlexNet, single-tower variant (5 convs + 3 FC = 8 layers)."""
    L: list[Layer] = []
    s = _conv(L, 64, 3, 224, 11, stride=4, pad=2)  # 55
    s = _pool(s, 3, 2)  # 27
    s = _conv(L, 192, 64, s, 5)
    s = _pool(s, 3, 2)  # 13
    s = _conv(L, 384, 192, s, 3)
    s = _conv(L, 256, 384, s, 3)
    s = _conv(L, 256, 256, s, 3)
    s = _pool(s, 3, 2)  # 6
    _fc(L, 4096, 256 * s * s)
    _fc(L, 4096, 4096)
    _fc(L, 1000, 4096)
    return L


def vgg16() -> list[Layer]:
    """VGG16, configuration D (13 convs + 3 FC = 16 layers)."""
    L: list[Layer] = []
    c, s = 3, 224
    for widths in ((64, 64), (128, 128), (256, 256, 256), (512, 512, 512), (512, 512, 512)):
        for k in widths:
            s = _conv(L, k, c, s, 3)
            c = k
        s = _pool(s, 2, 2)
    _fc(L, 4096, c * s * s)  # 512 * 7 * 7
    _fc(L, 4096, 4096)
    _fc(L, 1000, 4096)
    return L


def squeezenet() -> list[Layer]:
    """SqueezeNet 1.0 (conv1, 8 fire modules x 3 convs, conv10 = 26 layers, no FC)."""
    L: list[Layer] = []
    s = _conv(L, 96, 3, 224, 7, stride=2, pad=0)  # 109
    s = _pool(s, 3, 2, ceil=True)  # 54
    c = 96
    # fire modules: (squeeze 1x1, expand 1x1 = expand 3x3); pool after fire4 and fire8
    fires = ((16, 64), (16, 64), (32, 128), "pool", (32, 128), (48, 192), (48, 192),
             (64, 256), "pool", (64, 256))
    for fire in fires:
        if fire == "pool":
            s = _pool(s, 3, 2, ceil=True)
            continue
        squeeze, expand = fire
        _conv(L, squeeze, c, s, 1)
        _conv(L, expand, squeeze, s, 1)
        _conv(L, expand, squeeze, s, 3)
        c = 2 * expand
    _conv(L, 1000, c, s, 1)  # conv10 is the classifier
    return L


def googlenet() -> list[Layer]:
    """GoogLeNet / Inception-v1 (3 stem convs, 9 inception modules x 6 convs, FC = 58)."""
    L: list[Layer] = []
    s = _conv(L, 64, 3, 224, 7, stride=2)  # 112
    s = _pool(s, 3, 2, pad=1)  # 56
    s = _conv(L, 64, 64, s, 1)
    s = _conv(L, 192, 64, s, 3)
    s = _pool(s, 3, 2, pad=1)  # 28
    c = 192
    # (#1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj) per module, Table 1
    modules = (
        (64, 96, 128, 16, 32, 32), (128, 128, 192, 32, 96, 64), "pool",
        (192, 96, 208, 16, 48, 64), (160, 112, 224, 24, 64, 64),
        (128, 128, 256, 24, 64, 64), (112, 144, 288, 32, 64, 64),
        (256, 160, 320, 32, 128, 128), "pool",
        (256, 160, 320, 32, 128, 128), (384, 192, 384, 48, 128, 128),
    )
    for m in modules:
        if m == "pool":
            s = _pool(s, 3, 2, pad=1)
            continue
        n1, r3, n3, r5, n5, proj = m
        _conv(L, n1, c, s, 1)
        _conv(L, r3, c, s, 1)
        _conv(L, n3, r3, s, 3)
        _conv(L, r5, c, s, 1)
        _conv(L, n5, r5, s, 5)
        _conv(L, proj, c, s, 1)  # after a 3x3/1 max pool
        c = n1 + n3 + n5 + proj
    _fc(L, 1000, c)
    return L


# ------------------------------------------------------------------------------- ResNets


def _resnet_basic(blocks: tuple[int, ...]) -> list[Layer]:
    """ResNet with basic blocks (two 3x3 convs); 1x1 stride-2 projection shortcuts."""
    L: list[Layer] = []
    s = _conv(L, 64, 3, 224, 7, stride=2)  # 112
    s = _pool(s, 3, 2, pad=1)  # 56
    c = 64
    for stage, n in enumerate(blocks):
        width = 64 * 2**stage
        for b in range(n):
            stride = 2 if (b == 0 and stage > 0) else 1
            s_in = s
            s = _conv(L, width, c, s_in, 3, stride=stride)
            _conv(L, width, width, s, 3)
            if stride != 1 or c != width:
                _conv(L, width, c, s_in, 1, stride=stride)
            c = width
    _fc(L, 1000, c)
    return L


def _resnet_bottleneck(blocks: tuple[int, ...], groups: int = 1, width_mult: float = 1.0):
    """ResNet with bottleneck blocks (1x1, 3x3, 1x1 x4), stride on the 3x3 conv.

    ``width_mult`` scales the inner width (ResNeXt 32x4d and Wide-ResNet-50-2 use 2).
    """
    L: list[Layer] = []
    s = _conv(L, 64, 3, 224, 7, stride=2)  # 112
    s = _pool(s, 3, 2, pad=1)  # 56
    c = 64
    for stage, n in enumerate(blocks):
        planes = 64 * 2**stage
        width = int(planes * width_mult)
        out = 4 * planes
        for b in range(n):
            stride = 2 if (b == 0 and stage > 0) else 1
            s_in = s
            _conv(L, width, c, s_in, 1)
            s = _conv(L, width, width, s_in, 3, stride=stride, groups=groups)
            _conv(L, out, width, s, 1)
            if stride != 1 or c != out:
                _conv(L, out, c, s_in, 1, stride=stride)
            c = out
    _fc(L, 1000, c)
    return L


def resnet18() -> list[Layer]:
    """ResNet-18: 17 convs + 3 projection shortcuts + FC = 21 layers."""
    return _resnet_basic((2, 2, 2, 2))


def resnet50() -> list[Layer]:
    """ResNet-50 (v1.5): 49 convs + 4 projection shortcuts + FC = 54 layers."""
    return _resnet_bottleneck((3, 4, 6, 3))


def resnext50_32x4d() -> list[Layer]:
    """ResNeXt-50 32x4d: ResNet-50 with grouped 3x3 convs (32 groups of width 4 x 2^stage)."""
    return _resnet_bottleneck((3, 4, 6, 3), groups=32, width_mult=2.0)


def wide_resnet50() -> list[Layer]:
    """Wide-ResNet-50-2: ResNet-50 with the bottleneck width doubled."""
    return _resnet_bottleneck((3, 4, 6, 3), width_mult=2.0)


# ------------------------------------------------------------------------ mobile networks


def _inverted_residual(L: list[Layer], c: int, out: int, s: int, expand: int, r: int,
                       stride: int) -> int:
    """MobileNet-V2 / MnasNet block: [1x1 expand], r x r depthwise, 1x1 project."""
    hidden = c * expand
    if expand != 1:
        _conv(L, hidden, c, s, 1)
    s = _conv(L, hidden, hidden, s, r, stride=stride, groups=hidden)
    _conv(L, out, hidden, s, 1)
    return s


def mobilenet_v2() -> list[Layer]:
    """MobileNet-V2 1.0: conv, 17 bottlenecks, 1x1 conv to 1280, FC = 53 layers."""
    L: list[Layer] = []
    s = _conv(L, 32, 3, 224, 3, stride=2)  # 112
    c = 32
    # (expansion t, output channels c, repeats n, first stride s), Table 2
    for t, out, n, stride in ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                              (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)):
        for i in range(n):
            s = _inverted_residual(L, c, out, s, t, 3, stride if i == 0 else 1)
            c = out
    _conv(L, 1280, c, s, 1)
    _fc(L, 1000, 1280)
    return L


def mnasnet() -> list[Layer]:
    """MnasNet 1.0: conv, SepConv, 16 MBConv blocks, 1x1 conv to 1280, FC = 53 layers."""
    L: list[Layer] = []
    s = _conv(L, 32, 3, 224, 3, stride=2)  # 112
    s = _conv(L, 32, 32, s, 3, groups=32)  # SepConv: depthwise 3x3 ...
    _conv(L, 16, 32, s, 1)  # ... then pointwise to 16
    c = 16
    # (expansion, kernel, output channels, repeats, first stride)
    for t, r, out, n, stride in ((3, 3, 24, 3, 2), (3, 5, 40, 3, 2), (6, 5, 80, 3, 2),
                                 (6, 3, 96, 2, 1), (6, 5, 192, 4, 2), (6, 3, 320, 1, 1)):
        for i in range(n):
            s = _inverted_residual(L, c, out, s, t, r, stride if i == 0 else 1)
            c = out
    _conv(L, 1280, c, s, 1)
    _fc(L, 1000, 1280)
    return L


def shufflenet_v2() -> list[Layer]:
    """ShuffleNet-V2 1.0x: conv1, 16 units in 3 stages, conv5, FC = 57 layers.

    A down-sampling unit has two branches: (3x3 dw stride 2, 1x1) on the whole input and
    (1x1, 3x3 dw stride 2, 1x1); a basic unit splits the channels in half and runs
    (1x1, 3x3 dw, 1x1) on one half.  No conv is grouped other than the depthwise ones.
    """
    L: list[Layer] = []
    s = _conv(L, 24, 3, 224, 3, stride=2)  # 112
    s = _pool(s, 3, 2, pad=1)  # 56
    c = 24
    for out, units in ((116, 4), (232, 8), (464, 4)):
        half = out // 2
        # down-sampling unit, branch 1 then branch 2
        s2 = _conv(L, c, c, s, 3, stride=2, groups=c)
        _conv(L, half, c, s2, 1)
        _conv(L, half, c, s, 1)
        _conv(L, half, half, s, 3, stride=2, groups=half)
        _conv(L, half, half, s2, 1)
        s, c = s2, out
        for _ in range(units - 1):
            _conv(L, half, half, s, 1)
            _conv(L, half, half, s, 3, groups=half)
            _conv(L, half, half, s, 1)
    _conv(L, 1024, c, s, 1)
    _fc(L, 1000, 1024)
    return L


# ------------------------------------------------------------------------------ DenseNets


def _densenet(growth: int, init: int, blocks: tuple[int, ...]) -> list[Layer]:
    """DenseNet-BC: stem, dense layers (1x1 to 4k, 3x3 to k), 1x1 transitions, FC."""
    L: list[Layer] = []
    s = _conv(L, init, 3, 224, 7, stride=2)  # 112
    s = _pool(s, 3, 2, pad=1)  # 56
    c = init
    for i, n in enumerate(blocks):
        for _ in range(n):
            _conv(L, 4 * growth, c, s, 1)
            _conv(L, growth, 4 * growth, s, 3)
            c += growth
        if i < len(blocks) - 1:  # transition: 1x1 conv halving the channels, 2x2 avg pool
            _conv(L, c // 2, c, s, 1)
            c //= 2
            s = _pool(s, 2, 2)
    _fc(L, 1000, c)
    return L


def densenet121() -> list[Layer]:
    """DenseNet-121 (k=32): 120 convs + FC = 121 layers."""
    return _densenet(32, 64, (6, 12, 24, 16))


def densenet161() -> list[Layer]:
    """DenseNet-161 (k=48), the model of the ConfuciuX ``densenet`` table: 161 layers."""
    return _densenet(48, 96, (6, 12, 36, 24))


# Name -> generator.  The names match the ConfuciuX tables (its "densenet" is DenseNet-161);
# densenet121 is an extra model with no ConfuciuX counterpart.
ARCHITECTURES: dict[str, Callable[[], list[Layer]]] = {
    "alexnet": alexnet,
    "densenet": densenet161,
    "densenet121": densenet121,
    "googlenet": googlenet,
    "mnasnet": mnasnet,
    "mobilenet_v2": mobilenet_v2,
    "resnet18": resnet18,
    "resnet50": resnet50,
    "resnext50_32x4d": resnext50_32x4d,
    "shufflenet_v2": shufflenet_v2,
    "squeezenet": squeezenet,
    "vgg16": vgg16,
    "wide_resnet50": wide_resnet50,
}
