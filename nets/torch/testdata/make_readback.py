#!/usr/bin/python3
"""Regenerates written_by_go.json: what PyTorch makes of a checkpoint as
'landscape train --torch' writes it (nets/torch's Write).

Run from anywhere with Debian's python3-torch and Go:
    /usr/bin/python3 nets/torch/testdata/make_readback.py

It has TestPyTorchReadsWhatWriteWrites write its checkpoint (the zoo's
resnet20 on 1x28x28 images, as after training) to a temporary file, reads
it with torch.load (weights_only=True where PyTorch has it: no code
runs), loads it with load_state_dict(strict=True) into
scripts/fixtures/zoo.py's resnet20, and records the file's SHA-256 and,
for each tensor in the order read, its name, shape, dtype and the SHA-256
of its values' bytes. The Go test then checks that Write still writes
that file and that those are the tensors it wrote, bit for bit.
"""
import hashlib
import inspect
import json
import os
import subprocess
import sys
import tempfile

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, '..', '..', '..'))
sys.path.insert(0, os.path.join(ROOT, 'scripts', 'fixtures'))
import zoo  # noqa: E402

with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, 'written_by_go.pt')
    subprocess.run(['go', 'test', '-count=1', '-run', '^TestPyTorchReadsWhatWriteWrites$', '.', '-args', '-written', path],
                   cwd=os.path.join(ROOT, 'nets', 'torch'), check=True, stdout=subprocess.DEVNULL)
    with open(path, 'rb') as f:
        file_sha = hashlib.sha256(f.read()).hexdigest()
    if 'weights_only' in inspect.signature(torch.load).parameters:
        sd = torch.load(path, map_location='cpu', weights_only=True)
        loader = 'torch.load(weights_only=True)'
    else:
        sd = torch.load(path, map_location='cpu')
        loader = 'torch.load'

net = zoo.build('resnet20', in_channels=1, num_classes=10, height=28, width=28)
net.load_state_dict(sd, strict=True)
loader += ", then load_state_dict(strict=True) into scripts/fixtures/zoo.py's resnet20 (1 channel)"
# What the module holds now is what was read: the same bits.
for k, v in net.state_dict().items():
    assert torch.equal(v, sd[k]), k

tensors = [{'name': k, 'shape': list(v.shape), 'dtype': str(v.dtype).replace('torch.', ''),
            'sha256': hashlib.sha256(v.contiguous().numpy().tobytes()).hexdigest()} for k, v in sd.items()]
out = {'file_sha256': file_sha, 'torch': torch.__version__, 'loader': loader, 'tensors': tensors}
with open(os.path.join(HERE, 'written_by_go.json'), 'w') as f:
    json.dump(out, f, indent=1)
    f.write('\n')
print('wrote written_by_go.json: %d tensors, PyTorch %s' % (len(tensors), torch.__version__))
