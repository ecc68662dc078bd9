"""What the PyTorch peers share: Fashion-MNIST as tensors, the models built as sparkzoo builds them, one training step.

Benchmark references only, run from the venv that scripts/bench/torch-venv makes; sparkzoo itself never imports this.
"""
import argparse
import difflib
import gzip
import os
import struct
import sys

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    import torchvision
    from torchvision.models.googlenet import BasicConv2d as GoogLeNetConv
    from torchvision.models.inception import BasicConv2d as InceptionConv
    from torchvision.models.resnet import Bottleneck, ResNet
except ImportError as e:
    sys.exit(f"{os.path.basename(sys.argv[0])}: {e.name} is missing: run with the peers' venv, "
             f'"$(scripts/bench/torch-venv)" {" ".join(sys.argv)}')

# The Debian package dataset-fashion-mnist puts the IDX files here (scripts/bench-train reads the same).
DEFAULT_DATA_DIR = "/usr/share/datasets/fashion-mnist"
MODELS = ("lenet5", "resnet18", "resnet50", "densenet121", "mobilenet_v2", "vgg16", "googlenet", "inception_v3",
          "se_resnet50")
# Auxiliary heads' loss weights, as sparkzoo's GoogLeNet / InceptionV3 (torchvision's reference recipe).
AUX_LOSS_WEIGHT = {"googlenet": 0.3, "inception_v3": 0.4}
# Trainable parameters in models/README.md's table (channels, input, classes, count): --check-params compares.
REFERENCE_PARAMS = {
    "lenet5": (1, 32, 10, 61_706),
    "resnet18": (3, 224, 1000, 11_689_512),
    "resnet50": (3, 224, 1000, 25_557_032),
    "densenet121": (3, 224, 1000, 7_978_856),
    "mobilenet_v2": (3, 224, 1000, 3_504_872),
    "vgg16": (3, 224, 1000, 138_357_544),
    "googlenet": (3, 224, 1000, 13_004_888),
    "inception_v3": (3, 299, 1000, 27_161_264),
    "se_resnet50": (3, 224, 1000, 28_088_024),
}


class UserError(Exception):
    """A bad input: main prints its message as one line and exits 2."""


def parse_models(text):
    names = [n.strip() for n in text.split(",") if n.strip()]
    for n in names:
        if n not in MODELS:
            close = difflib.get_close_matches(n, MODELS, n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            raise UserError(f"unknown --model '{n}'{hint} (one or more of {', '.join(MODELS)}, comma-separated)")
    if not names:
        raise UserError(f"--model is empty (one or more of {', '.join(MODELS)}, comma-separated)")
    return names


def default_channels(model):
    """sparkzoo's benchmarks: grey 1-channel input for lenet5, grey replicated to 3 channels for the others."""
    return 1 if model == "lenet5" else 3


# ---- data

def _read_idx(path, ndim):
    try:
        with gzip.open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise UserError(f"cannot read Fashion-MNIST file {path} ({e.strerror or e}): "
                        "apt-get install dataset-fashion-mnist, or pass --data-dir DIR with the four IDX .gz files")
    zero, dtype, dims = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08 or dims != ndim:
        raise UserError(f"{path} is not an IDX file of {ndim}-d unsigned bytes: pass --data-dir with Fashion-MNIST's files")
    shape = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return torch.frombuffer(bytearray(data), dtype=torch.uint8, offset=4 + 4 * ndim).reshape(shape)


def fashion_mnist(data_dir, count, size, channels, rank=0, world=1):
    """`count` training images of process `rank` of `world` (every world-th image), resized once to size x size
    (bilinear), grey replicated to `channels`, scaled to [0, 1]; and their labels."""
    images = _read_idx(os.path.join(data_dir, "train-images-idx3-ubyte.gz"), 3)
    labels = _read_idx(os.path.join(data_dir, "train-labels-idx1-ubyte.gz"), 1)
    index = torch.arange(rank, images.shape[0], world)[:count]
    x = images[index].unsqueeze(1).float().div_(255)
    if size != x.shape[-1]:
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False).clamp_(0, 1)
    return x.expand(-1, channels, -1, -1).contiguous(), labels[index].long()


def pool_batches(batch, steps, size, channels, world, budget_bytes=256 << 20):
    """How many distinct batches a process holds: every step's own batch while they fit the budget, else cycled."""
    if batch * world > 60_000:
        raise UserError(f"--batch {batch} x {world} process(es) is more than Fashion-MNIST's 60,000 training images")
    per_batch = batch * channels * size * size * 4
    return max(1, min(steps, budget_bytes // per_batch, 60_000 // world // batch))


# ---- models

def _with_input_channels(conv, channels):
    if conv.in_channels == channels:
        return conv
    return nn.Conv2d(channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding,
                     bias=conv.bias is not None)


def lenet5(channels, size, classes):
    """sparkzoo's LeNet.lenet5: C1 padded by 2 when the input is at most 28 px (keeps the paper's 28x28 C1 map)."""
    pad = 2 if size <= 28 else 0
    side = ((size + 2 * pad - 4) // 2 - 4) // 2
    if side < 1:
        raise UserError(f"lenet5 does not fit a {size}x{size} input: use --image-size 12 or more")
    return nn.Sequential(
        nn.Conv2d(channels, 6, 5, padding=pad), nn.ReLU(inplace=True), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(inplace=True), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(16 * side * side, 120), nn.ReLU(inplace=True),
        nn.Linear(120, 84), nn.ReLU(inplace=True),
        nn.Linear(84, classes))


class SqueezeExcite(nn.Module):
    """sparkzoo's SqueezeExcite.gate: x * sigmoid(W2 relu(W1 gap(x))), 1x1 convs with bias (timm's layout)."""

    def __init__(self, channels, reduction):
        super().__init__()
        self.fc1 = nn.Conv2d(channels, channels // reduction, 1)
        self.fc2 = nn.Conv2d(channels // reduction, channels, 1)

    def forward(self, x):
        return x * torch.sigmoid(self.fc2(F.relu(self.fc1(F.adaptive_avg_pool2d(x, 1)))))


class SEBottleneck(Bottleneck):
    """torchvision's Bottleneck with SE (reduction 16) after bn3, on the branch before the addition (Residual.bottleneck)."""

    def __init__(self, inplanes, planes, *args, **kwargs):
        super().__init__(inplanes, planes, *args, **kwargs)
        self.se = SqueezeExcite(planes * self.expansion, 16)

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.se(self.bn3(self.conv3(out)))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


def uniform_avg_pool(x, out_size):
    """sparkzoo's Graph.adaptiveAvgPool: one uniform window (kernel, stride) to min(out_size, side); torch's adaptive
    pool uses uneven windows and upsamples maps smaller than out_size, which changes the aux heads' widths."""
    side = x.shape[-2]
    out = min(out_size, side)
    stride = side // out
    kernel = side - (out - 1) * stride
    return x if kernel == 1 and stride == 1 else F.avg_pool2d(x, kernel, stride)


class GoogLeNetAux(nn.Module):
    """sparkzoo's Inception.v1Aux: pool to 4x4 (or the map's side) - 1x1 conv 128 - fc 1024 ReLU - dropout 0.7 - fc."""

    def __init__(self, in_channels, classes, side):
        super().__init__()
        out = min(4, side)
        self.conv = GoogLeNetConv(in_channels, 128, kernel_size=1)
        self.fc1 = nn.Linear(128 * out * out, 1024)
        self.fc2 = nn.Linear(1024, classes)
        self.dropout = nn.Dropout(0.7)

    def forward(self, x):
        x = torch.flatten(self.conv(uniform_avg_pool(x, 4)), 1)
        return self.fc2(self.dropout(F.relu(self.fc1(x), inplace=True)))


class InceptionV3Aux(nn.Module):
    """sparkzoo's Inception.v3Aux: pool to 5x5 - 1x1 conv 128 - k x k conv 768 (k = min(5, side)) - global pool - fc."""

    def __init__(self, in_channels, classes, side):
        super().__init__()
        k = min(5, side)
        self.conv0 = InceptionConv(in_channels, 128, kernel_size=1)
        self.conv1 = InceptionConv(128, 768, kernel_size=k)
        self.fc = nn.Linear(768, classes)

    def forward(self, x):
        x = self.conv1(self.conv0(uniform_avg_pool(x, 5)))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def _map_sides(model, channels, size, modules):
    """Side of each named module's output map, from one inference pass on a zero image."""
    sides = {}
    hooks = [m.register_forward_hook(lambda _m, _i, out, name=name: sides.__setitem__(name, out.shape[-2]))
             for name, m in modules.items()]
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, channels, size, size))
    for h in hooks:
        h.remove()
    model.train()
    return sides


def _googlenet(channels, size, classes):
    m = torchvision.models.googlenet(num_classes=classes, aux_logits=True, init_weights=True, transform_input=False)
    m.conv1.conv = _with_input_channels(m.conv1.conv, channels)
    # sparkzoo writes torchvision's ceil-mode 3x3/2 pools as padding 1 and the 2x2/2 one as a plain pool.
    m.maxpool1, m.maxpool2, m.maxpool3 = (nn.MaxPool2d(3, 2, padding=1) for _ in range(3))
    m.maxpool4 = nn.MaxPool2d(2, 2)
    sides = _map_sides(m, channels, size, {"aux1": m.inception4a, "aux2": m.inception4d})
    m.aux1 = GoogLeNetAux(512, classes, sides["aux1"])
    m.aux2 = GoogLeNetAux(528, classes, sides["aux2"])
    return m


def _inception_v3(channels, size, classes):
    m = torchvision.models.inception_v3(num_classes=classes, aux_logits=True, init_weights=True, transform_input=False)
    m.Conv2d_1a_3x3.conv = _with_input_channels(m.Conv2d_1a_3x3.conv, channels)
    m.AuxLogits = InceptionV3Aux(768, classes, _map_sides(m, channels, size, {"aux": m.Mixed_6e})["aux"])
    return m


def _vgg16(channels, size, classes):
    """sparkzoo's VGG: the classifier reads the last map directly (no adaptive 7x7 pool, the same at 224)."""
    m = torchvision.models.vgg16(num_classes=classes)
    m.features[0] = _with_input_channels(m.features[0], channels)
    side = size
    for _ in range(5):
        side //= 2
    m.avgpool = nn.Identity()
    m.classifier[0] = nn.Linear(512 * side * side, 4096)
    return m


def _resnet(channels, classes, name):
    m = getattr(torchvision.models, name)(num_classes=classes)
    m.conv1 = _with_input_channels(m.conv1, channels)
    return m


def _se_resnet50(channels, classes):
    m = ResNet(SEBottleneck, [3, 4, 6, 3], num_classes=classes)
    m.conv1 = _with_input_channels(m.conv1, channels)
    return m


def _densenet121(channels, classes):
    m = torchvision.models.densenet121(num_classes=classes)
    m.features.conv0 = _with_input_channels(m.features.conv0, channels)
    return m


def _mobilenet_v2(channels, classes):
    m = torchvision.models.mobilenet_v2(num_classes=classes)
    m.features[0][0] = _with_input_channels(m.features[0][0], channels)
    return m


# name -> builder(channels, size, classes); torchvision's global pools make most of them size-independent.
BUILDERS = {
    "lenet5": lenet5,
    "resnet18": lambda c, s, k: _resnet(c, k, "resnet18"),
    "resnet50": lambda c, s, k: _resnet(c, k, "resnet50"),
    "densenet121": lambda c, s, k: _densenet121(c, k),
    "mobilenet_v2": lambda c, s, k: _mobilenet_v2(c, k),
    "vgg16": _vgg16,
    "googlenet": _googlenet,
    "inception_v3": _inception_v3,
    "se_resnet50": lambda c, s, k: _se_resnet50(c, k),
}


def build_model(name, channels, size, classes, seed=0):
    """The model in training mode, checked to run on a channels x size x size input."""
    torch.manual_seed(seed)
    try:
        model = BUILDERS[name](channels, size, classes)
        _map_sides(model, channels, size, {})
    except RuntimeError as e:
        raise UserError(f"{name} does not fit a {channels}x{size}x{size} input ({str(e).splitlines()[0]}): "
                        "use a larger --image-size (models/README.md lists each model's minimum)")
    return model


def trainable_params(model):
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def check_params():
    """Compares each model's trainable parameters with models/README.md; returns the lines and whether all matched."""
    lines, ok = [], True
    for name, (channels, size, classes, expected) in REFERENCE_PARAMS.items():
        got = trainable_params(BUILDERS[name](channels, size, classes))
        ok &= got == expected
        lines.append(f"{name:13s} {channels}x{size}x{size} {classes:4d} classes: {got:>11,} "
                     f"(sparkzoo {expected:,}) {'ok' if got == expected else 'DIFFERS'}")
    return lines, ok


# ---- training

def sgd(model, lr, momentum, nesterov, weight_decay=0.0):
    """torch.optim.SGD; its weight_decay adds c w to the gradient, as train-job's --weight-decay-mode l2 does."""
    return torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, nesterov=nesterov, weight_decay=weight_decay)


def make_step(model, optimizer, x, y, batch, aux_weight):
    """step(i) trains on batch i (cycling through what x holds) and returns the loss tensor."""
    batches = x.shape[0] // batch

    def step(i):
        j = (i % batches) * batch
        optimizer.zero_grad(set_to_none=True)
        out = model(x[j:j + batch])
        if isinstance(out, torch.Tensor):
            loss = F.cross_entropy(out, y[j:j + batch])
        else:  # main logits first, then the auxiliary heads' (torchvision's GoogLeNetOutputs / InceptionOutputs)
            main, *aux = out
            loss = F.cross_entropy(main, y[j:j + batch])
            loss = loss + aux_weight * sum(F.cross_entropy(a, y[j:j + batch]) for a in aux)
        loss.backward()
        optimizer.step()
        return loss
    return step


def add_common_args(p, default_steps):
    p.add_argument("--image-size", type=int, default=28, help="input side in pixels (default 28)")
    p.add_argument("--channels", type=int, default=None, help="input channels (default: 1 for lenet5, else 3)")
    p.add_argument("--classes", type=int, default=10, help="classifier outputs (default 10, Fashion-MNIST)")
    p.add_argument("--threads", type=int, default=1, help="torch intra-op threads per process (default 1)")
    p.add_argument("--steps", type=int, default=default_steps, help=f"timed steps (default {default_steps})")
    p.add_argument("--warmup", type=int, default=5, help="untimed steps first (default 5)")
    p.add_argument("--lr", type=float, default=0.01, help="SGD learning rate (default 0.01)")
    p.add_argument("--momentum", type=float, default=0.9, help="SGD momentum (default 0.9)")
    p.add_argument("--weight-decay", type=float, default=0.0,
                   help="L2 weight decay c, added to the gradient (train-job's --weight-decay-mode l2); default 0")
    p.add_argument("--nesterov", action=argparse.BooleanOptionalAction, default=True,
                   help="Nesterov momentum, as train-job's default optimizer (DL4J Nesterovs); default on")
    p.add_argument("--data-dir", default=DEFAULT_DATA_DIR, help="folder with Fashion-MNIST's IDX .gz files")


def check_common_args(a):
    for name in ("image_size", "batch", "threads", "steps"):
        if getattr(a, name) < 1:
            raise UserError(f"--{name.replace('_', '-')} must be at least 1 (got {getattr(a, name)})")
    if a.warmup < 0:
        raise UserError(f"--warmup must be 0 or more (got {a.warmup})")
    if a.classes < 10:
        raise UserError(f"--classes must be at least 10: the labels are Fashion-MNIST's 0..9 (got {a.classes})")
    if a.channels is not None and a.channels < 1:
        raise UserError(f"--channels must be at least 1 (got {a.channels})")
    if a.lr <= 0 or a.momentum < 0:
        raise UserError(f"--lr must be > 0 and --momentum >= 0 (got {a.lr}, {a.momentum})")


def versions():
    return {"torch": torch.__version__, "torchvision": torchvision.__version__}


def optimizer_name(a):
    return f"sgd lr {a.lr} momentum {a.momentum}{' nesterov' if a.nesterov else ''}"
