"""LGSS as the MovieScenes paper's code (AnyiRao/SceneSeg, `lgss/src/models/lgss.py`) defines
and tests it, written for SceneLab's parity fixtures.

The modules carry SceneSeg's exact parameter names, so `LGSS(...).state_dict()` and
`nn.DataParallel(LGSS(...)).state_dict()` have the keys of a SceneSeg checkpoint
(`bnet_<mode>.bnet.conv1.*`, `bnet_<mode>.bnet.cos.conv1.*`, `bnet_<mode>.lstm.*_l0[_reverse]`,
`bnet_<mode>.fc1.*`, `bnet_<mode>.fc2.*`; the audio branch holds `bnet_aud.bnet.audnet.*`,
`bnet_aud.bnet.conv1.*` (built, never used) and `bnet_aud.bnet.conv2.*`). The computation
follows SceneSeg's, and the sizes SceneSeg fixes in code (the spectrogram CNN's widths, the
100-unit dense layer) are arguments so that test fixtures can be small.

`sceneseg_sequences` reproduces which windows SceneSeg's test code (`lgss/src/data/all.py`:
`data_pre`, `data_partition`, `Preprocessor`) scores for a movie, and `score_movie` runs them,
giving each scored transition the probability SceneSeg's `run.py test()` computes
(`softmax(output)[:, 1]`).

Our own code, written from SceneSeg's behaviour; torch only.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

MODES = ("place", "cast", "act", "aud")
DEFAULT_RATIO = (0.5, 0.2, 0.2, 0.1)


class AudNet(nn.Module):
    """SceneSeg's spectrogram CNN (`audnet`): a `[n, 1, 257, 90]` STFT → `[n, out]`."""

    def __init__(self, widths=(64, 192, 384, 256, 256, 512), out=512):
        super().__init__()
        w1, w2, w3, w4, w5, w6 = widths
        self.conv1 = nn.Conv2d(1, w1, kernel_size=(3, 3), stride=(2, 1), padding=0)
        self.bn1 = nn.BatchNorm2d(w1)
        self.pool1 = nn.MaxPool2d(kernel_size=(1, 3))
        self.conv2 = nn.Conv2d(w1, w2, kernel_size=(3, 3), stride=(2, 1), padding=0)
        self.bn2 = nn.BatchNorm2d(w2)
        self.conv3 = nn.Conv2d(w2, w3, kernel_size=(3, 3), stride=(2, 1), padding=0)
        self.bn3 = nn.BatchNorm2d(w3)
        self.conv4 = nn.Conv2d(w3, w4, kernel_size=(3, 3), stride=(2, 2), padding=0)
        self.bn4 = nn.BatchNorm2d(w4)
        self.conv5 = nn.Conv2d(w4, w5, kernel_size=(3, 3), stride=(2, 2), padding=0)
        self.bn5 = nn.BatchNorm2d(w5)
        self.pool5 = nn.MaxPool2d(kernel_size=(2, 2))
        self.conv6 = nn.Conv2d(w5, w6, kernel_size=(3, 2), padding=0)
        self.bn6 = nn.BatchNorm2d(w6)
        self.fc = nn.Linear(w6, out)

    def forward(self, x):
        x = self.pool1(F.relu(self.bn1(self.conv1(x))))
        x = F.relu(self.bn2(self.conv2(x)))
        x = F.relu(self.bn3(self.conv3(x)))
        x = F.relu(self.bn4(self.conv4(x)))
        x = self.pool5(F.relu(self.bn5(self.conv5(x))))
        x = F.relu(self.bn6(self.conv6(x)))
        return self.fc(x.flatten(1))


class Cos(nn.Module):
    """Cosine similarity, per channel, of the two convolved half-windows."""

    def __init__(self, shot_num, channel):
        super().__init__()
        self.half = shot_num // 2
        self.conv1 = nn.Conv2d(1, channel, kernel_size=(self.half, 1))

    def forward(self, x):  # [batch, seq_len, shot_num, feat]
        x = x.reshape(-1, 1, x.shape[2], x.shape[3])
        part1, part2 = torch.split(x, [self.half, self.half], dim=2)
        part1 = self.conv1(part1).squeeze(2)  # [n, channel, feat]
        part2 = self.conv1(part2).squeeze(2)
        return F.cosine_similarity(part1, part2, dim=2)  # [n, channel]


class BNet(nn.Module):
    """Boundary network: window convolution + max over channels, and the half-window cosine."""

    def __init__(self, shot_num, channel):
        super().__init__()
        self.conv1 = nn.Conv2d(1, channel, kernel_size=(shot_num, 1))
        self.cos = Cos(shot_num, channel)

    def forward(self, x):  # [batch, seq_len, shot_num, feat]
        context = x.reshape(x.shape[0] * x.shape[1], 1, x.shape[2], x.shape[3])
        context = self.conv1(context)  # [n, channel, 1, feat]
        # SceneSeg's MaxPool3d((channel, 1, 1)) on this 4-d tensor: the max over channels.
        context = context.amax(dim=1).reshape(context.shape[0], -1)  # [n, feat]
        return torch.cat((context, self.cos(x)), dim=1)


class BNetAud(nn.Module):
    """The audio boundary network: spectrogram CNN per shot, then the half-window cosine of
    its outputs (`conv2`). `conv1` is built as in SceneSeg but never used."""

    def __init__(self, shot_num, channel, aud_widths, aud_out):
        super().__init__()
        self.shot_num = shot_num
        self.audnet = AudNet(aud_widths, aud_out)
        self.conv1 = nn.Conv2d(1, channel, kernel_size=(shot_num, 1))
        self.conv2 = nn.Conv2d(1, channel, kernel_size=(shot_num // 2, 1))

    def forward(self, x):  # [batch, seq_len, shot_num, freq, time]
        n = x.shape[0] * x.shape[1]
        context = x.reshape(n * x.shape[2], 1, x.shape[-2], x.shape[-1])
        context = self.audnet(context).reshape(n, 1, self.shot_num, -1)
        half = self.shot_num // 2
        part1, part2 = torch.split(context, [half, half], dim=2)
        part1 = self.conv2(part1).squeeze(2)
        part2 = self.conv2(part2).squeeze(2)
        return F.cosine_similarity(part1, part2, dim=2)


class LGSSone(nn.Module):
    """One modality: boundary network, BiLSTM over `seq_len` windows, two dense layers."""

    def __init__(self, mode, feat_dim, shot_num, seq_len, channel, hidden, dense=100,
                 aud_widths=(64, 192, 384, 256, 256, 512), aud_out=512):
        super().__init__()
        self.seq_len = seq_len
        if mode == "aud":
            self.bnet = BNetAud(shot_num, channel, aud_widths, aud_out)
            input_dim = channel
        else:
            self.bnet = BNet(shot_num, channel)
            input_dim = feat_dim + channel
        self.lstm = nn.LSTM(input_size=input_dim, hidden_size=hidden, num_layers=1,
                            batch_first=True, bidirectional=True)
        self.fc1 = nn.Linear(2 * hidden, dense)
        self.fc2 = nn.Linear(dense, 2)

    def forward(self, x):
        x = self.bnet(x)
        x = x.reshape(-1, self.seq_len, x.shape[-1])
        out, _ = self.lstm(x)
        out = self.fc2(F.relu(self.fc1(out)))
        return out.reshape(-1, 2)


class LGSS(nn.Module):
    """The branches named in `modes`, their two-class logits summed with `ratio`
    (place, cast, act, aud)."""

    def __init__(self, modes=MODES, feat_dims=None, shot_num=4, seq_len=10, channel=512,
                 hidden=512, dense=100, ratio=DEFAULT_RATIO,
                 aud_widths=(64, 192, 384, 256, 256, 512), aud_out=512):
        super().__init__()
        feat_dims = feat_dims or {"place": 2048, "cast": 512, "act": 512}
        self.modes = tuple(modes)
        self.ratio = tuple(ratio)
        self.shot_num = shot_num
        self.seq_len = seq_len
        for mode in self.modes:
            branch = LGSSone(mode, feat_dims.get(mode), shot_num, seq_len, channel, hidden,
                             dense, aud_widths, aud_out)
            setattr(self, "bnet_" + mode, branch)

    def forward(self, place_feat, cast_feat, act_feat, aud_feat):
        """Each input `[batch, seq_len, shot_num, ...]` (unused modes may be anything);
        returns summed logits `[batch * seq_len, 2]`."""
        out = 0
        for i, (mode, feat) in enumerate(zip(MODES, (place_feat, cast_feat, act_feat, aud_feat))):
            if mode in self.modes:
                out = out + self.ratio[i] * getattr(self, "bnet_" + mode)(feat)
        return out


def _floordiv(a, b):
    return a // b  # Python's floor division, as SceneSeg's ranges use it


def sceneseg_sequences(n_shots, shot_num=4, seq_len=10):
    """The sequences SceneSeg's test loader forms for a movie whose shots 0..n_shots-1 all
    have features and labels: a list of `seq_len` transition ids each (transition t = the
    boundary after shot t, scored by the window of shots t-shot_num/2+1 .. t+shot_num/2).

    `data_pre` keeps shot s if every shot in s + range(-(win)//2+1, win//2+1),
    win = seq_len + shot_num, exists; `data_partition` walks the kept shots in order and
    starts a sequence at s (transitions s-seq_len/2+1 .. s+seq_len/2) whenever
    s >= previous start + seq_len/2 (the first needs s >= seq_len/2)."""
    assert seq_len % 2 == 0
    win = seq_len + shot_num
    lo, hi = _floordiv(-win, 2) + 1, win // 2 + 1
    valid = [s for s in range(n_shots) if all(0 <= s + k < n_shots for k in range(lo, hi))]
    half = seq_len // 2
    sequences, last = [], 0
    for s in valid:
        if s < last + half:
            continue
        last = s + half
        sequences.append([s + k for k in range(-half + 1, half + 1)])
    return sequences


def window_inputs(feat, transitions, shot_num=4):
    """`[len(transitions), shot_num, dim]`: for transition t the shots t-shot_num/2+1 ..
    t+shot_num/2 (SceneSeg's `shot_boundary_range`)."""
    offsets = range(_floordiv(-shot_num, 2) + 1, shot_num // 2 + 1)
    idx = torch.tensor([[t + k for k in offsets] for t in transitions])
    return feat[idx]


@torch.no_grad()
def score_sequences(model, feats, sequences, modes=None):
    """Probability of a boundary for every transition of `sequences` (equal-length lists of
    transition ids), as SceneSeg's test computes it: `softmax(Σ ratio · branch logits)[:, 1]`,
    which is `LGSS.forward` restricted to `modes` (default: the model's modes but `aud`, whose
    inputs are spectrograms). `feats` maps mode → `[n_shots, dim]` float tensor. A sequence
    length other than the model's `seq_len` is allowed (SceneLab scores short movies so)."""
    modes = modes or [m for m in model.modes if m != "aud"]
    n, length = len(sequences), len(sequences[0])
    flat = [t for seq in sequences for t in seq]
    out = 0
    for i, mode in enumerate(MODES):
        if mode not in modes:
            continue
        branch = getattr(model, "bnet_" + mode)
        x = window_inputs(feats[mode], flat, model.shot_num)
        saved, branch.seq_len = branch.seq_len, length
        try:
            logits = branch(x.reshape(n, length, model.shot_num, -1))
        finally:
            branch.seq_len = saved
        out = out + model.ratio[i] * logits
    return F.softmax(out, dim=1)[:, 1]


def score_movie(model, feats, n_shots, modes=None):
    """`(transitions, probabilities)` SceneSeg's test code gives a movie of `n_shots` shots."""
    sequences = sceneseg_sequences(n_shots, model.shot_num, model.seq_len)
    if not sequences:
        return [], torch.zeros(0)
    probs = score_sequences(model, feats, sequences, modes)
    return [t for seq in sequences for t in seq], probs
