#!/usr/bin/python3
"""Regenerates the exported-network fixtures of nets/onnx.

Run from this folder with Debian's python3-torch (1.13) and python3-numpy:
    /usr/bin/python3 make.py
It needs no downloads and no onnx package. Weights are seeded; batch-norm
running statistics are set to non-trivial values so that eval-mode BN
matters, and the export keeps them as BatchNormalization nodes. For each network NAME it writes NAME.onnx (torch.onnx.export) and
NAME.npz holding "input" and PyTorch's "output" (float32). The Go test
(TestExportedNetworks) runs the .onnx on the input and compares.
"""
import numpy as np
import torch
from torch import nn


class Block(nn.Module):
    """A ResNet basic block: conv-bn-relu-conv-bn, identity shortcut."""

    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return torch.relu(y + x)


class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.pool = nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True)
        self.block = Block(8)
        self.down = nn.Conv2d(8, 16, 3, stride=2, padding=1, groups=2)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        x = self.pool(torch.relu(self.bn1(self.conv1(x))))
        x = self.block(x)
        x = torch.relu(self.down(x))
        x = nn.functional.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.fc(x)


class TinyMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(20, 32)
        self.norm = nn.LayerNorm(32)
        self.fc2 = nn.Linear(32, 32)
        self.fc3 = nn.Linear(32, 5)

    def forward(self, x):
        x = nn.functional.gelu(self.norm(self.fc1(x)))
        x = torch.tanh(self.fc2(x)) + nn.functional.hardswish(x)
        return torch.log_softmax(self.fc3(x), dim=-1)


def randomize_bn(model, gen):
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            n = m.num_features
            m.running_mean.copy_(torch.randn(n, generator=gen) * 0.1)
            m.running_var.copy_(torch.rand(n, generator=gen) + 0.5)
            m.weight.data.copy_(torch.rand(n, generator=gen) + 0.5)
            m.bias.data.copy_(torch.randn(n, generator=gen) * 0.1)


def export(name, model, x, opset, dynamic_axes=None, fold=True):
    """Exports model; fold=False keeps every parameter under its name, as
    the README's export call does for a loss landscape."""
    model.eval()
    with torch.no_grad():
        y = model(x)
    # PRESERVE keeps the eval-mode model as it is; the default (EVAL)
    # would fold batch norms into the convolutions.
    torch.onnx.export(model, x, name + ".onnx", opset_version=opset,
                      training=torch.onnx.TrainingMode.PRESERVE,
                      input_names=["input"], output_names=["output"],
                      dynamic_axes=dynamic_axes, do_constant_folding=fold)
    np.savez(name + ".npz", input=x.numpy(), output=y.numpy())


torch.manual_seed(0)
gen = torch.Generator().manual_seed(1)
cnn = SmallCNN()
randomize_bn(cnn, gen)
export("small_cnn", cnn, torch.randn(2, 3, 16, 16, generator=gen), 13)

torch.manual_seed(2)
export("tiny_mlp", TinyMLP(), torch.randn(4, 20, generator=gen), 17)

# A transformer encoder layer (self-attention, layer norms, GELU MLP) with
# dynamic batch and sequence axes, so that the export computes shapes at
# run time (Shape, Gather, Concat, Reshape).
torch.manual_seed(3)
layer = nn.TransformerEncoderLayer(d_model=16, nhead=2, dim_feedforward=32,
                                   dropout=0.0, batch_first=True,
                                   activation="gelu")
export("tiny_transformer", layer, torch.randn(2, 5, 16, generator=gen), 17,
       dynamic_axes={"input": {0: "batch", 1: "seq"}})

# Small torchvision ViT and ConvNeXt: the operators of vit_b_16 and
# convnext_tiny (patch embedding, class token, nn.MultiheadAttention,
# permutes, LayerNormalization, GELU, layer scale) at a size the tests run
# in moments, for the interpreters that run such graphs.
from torchvision.models.convnext import CNBlockConfig, ConvNeXt
from torchvision.models.vision_transformer import VisionTransformer

torch.manual_seed(4)
vit = VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=2,
                        hidden_dim=16, mlp_dim=32, num_classes=10)
for p in vit.parameters():  # torchvision zeroes the head and the class token
    p.data.copy_(torch.randn(p.shape, generator=gen) * 0.2)
export("tiny_vit", vit, torch.randn(3, 3, 32, 32, generator=gen), 17,
       dynamic_axes={"input": {0: "batch"}}, fold=False)

torch.manual_seed(5)
convnext = ConvNeXt([CNBlockConfig(8, 16, 1), CNBlockConfig(16, None, 1)],
                    num_classes=10)
for p in convnext.parameters():  # the layer scale starts at 1e-6
    p.data.copy_(torch.randn(p.shape, generator=gen) * 0.2)
export("tiny_convnext", convnext, torch.randn(3, 3, 32, 32, generator=gen), 17,
       dynamic_axes={"input": {0: "batch"}}, fold=False)
