"""PyTorch twins of SceneLab's boundary models (torch only).

Each twin has exactly SceneLab's parameter names and shapes, so the weights SceneLab writes
load with ``model.load_state_dict(safetensors.torch.load_file(path))``, and a twin's
``state_dict()`` saved with ``torch.save`` or ``safetensors.torch.save_file`` loads in
SceneLab (``scenelab predict DIR --model x.pth``, or the app's Load model).

Conventions (as in SceneLab, ``src/model/``):

* Input: ``x`` ``[batch, shots, sum of input_dims]``, the four modalities concatenated per
  shot in the order place, cast, action, audio, already normalised (see ``Normalization``),
  zero on padded shots; ``lengths``: the real number of shots of each movie. Every twin takes
  ``input_dims``, the columns of each modality (SceneLab records the widths of the data it
  trained on; the challenge's files hold ``CHALLENGE_DIMS``: place 2048, the others 512).
* Output: logits ``[batch, shots - 1]``; ``sigmoid(logits[b, i])`` is the probability that a
  scene ends after shot ``i``. Entries past a movie's ``lengths[b] - 1`` transitions are
  padding.
* Layouts are SceneLab's, not ``nn.Linear``'s: a dense layer's ``weight`` is ``[in, out]``; a
  temporal convolution's ``weight`` is ``[in, kernel * out]`` (tap ``j``'s weights are columns
  ``j*out:(j+1)*out``); a bidirectional LSTM layer has ``w_ih`` ``[in, 8 * hidden]`` (the
  forward direction's gates i, f, g, o, then the backward direction's), ``bias``
  ``[8 * hidden]`` (torch's ``b_ih + b_hh``) and ``w_hh`` ``[2, hidden, 4 * hidden]``.
  ``BiLstmLayer.from_torch`` converts an ``nn.LSTM`` layer.
* Every twin holds the feature normalisation SceneLab fitted on the training movies as the
  buffers ``normalization.mean``, ``normalization.std`` and
  ``normalization.keep_empty_rows``; ``score(raw, lengths)`` normalises raw features and
  returns probabilities, as ``scenelab predict --raw-scores`` does.

``load(model_dir)`` builds the twin a ``config.json`` names (every model folder SceneLab writes
has one: ``scenelab train``, the app's Save model, ``scenelab export-torch``) and loads its
``model.safetensors``; ``save(model, model_dir)`` writes such a pair for SceneLab to read.
"""

import json
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

#: The modalities in SceneLab's order (its ``Modality::ALL``).
MODALITY_NAMES = ("place", "cast", "action", "audio")
#: The widths of the challenge's files (SceneLab's ``FeatureDims::CHALLENGE``).
CHALLENGE_DIMS = {"place": 2048, "cast": 512, "action": 512, "audio": 512}
FEATURE_DIM = sum(CHALLENGE_DIMS.values())


def resolve_dims(input_dims=None, input_dim=None):
    """The per-modality widths a twin reads: ``input_dims`` (a dict), else the challenge's.
    ``input_dim``, the total SceneLab configs held before they recorded each modality, is
    accepted when it is the challenge's total."""
    if input_dims is None:
        if input_dim not in (None, FEATURE_DIM):
            raise ValueError(f"input_dim {input_dim} is not the challenge's {FEATURE_DIM}: give input_dims per modality")
        return dict(CHALLENGE_DIMS)
    missing = [m for m in MODALITY_NAMES if m not in input_dims]
    if missing:
        raise ValueError(f"input_dims lacks {missing}")
    return {m: int(input_dims[m]) for m in MODALITY_NAMES}


def modality_ranges(input_dims):
    """``[(name, lo, hi)]``: each modality's columns of the concatenated features."""
    out, lo = [], 0
    for m in MODALITY_NAMES:
        out.append((m, lo, lo + input_dims[m]))
        lo += input_dims[m]
    return out

#: What ``config.json``'s ``torch.format`` says.
TWIN_FORMAT = "scenelab-torch-twin"


def shot_mask(lengths, shots, device=None):
    """``[batch, shots, 1]`` float: 1 on real shots, 0 on padding."""
    lengths = torch.as_tensor(lengths, device=device)
    return (torch.arange(shots, device=device)[None, :] < lengths[:, None]).float()[..., None]


def shift_time(x, offset):
    """``y[:, t] = x[:, t + offset]``, zero where ``t + offset`` falls outside."""
    t = x.shape[1]
    if offset == 0:
        return x
    k = abs(offset)
    if k >= t:
        return torch.zeros_like(x)
    pad = [0, 0] * (x.dim() - 2)
    if offset > 0:
        return F.pad(x[:, k:], pad + [0, k])
    return F.pad(x[:, : t - k], pad + [k, 0])


class Normalization(nn.Module):
    """Per-feature ``(x - mean) / std`` with SceneLab's training statistics; with
    ``keep_empty_rows``, a modality's all-zero row stays zero (``src/train/normalize.rs``)."""

    def __init__(self, input_dims=None):
        super().__init__()
        self.ranges = modality_ranges(resolve_dims(input_dims))
        dim = self.ranges[-1][2]
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("std", torch.ones(dim))
        self.register_buffer("keep_empty_rows", torch.tensor(False))

    def forward(self, raw):
        z = (raw - self.mean) / self.std
        if not bool(self.keep_empty_rows):
            return z
        keep = torch.ones_like(raw)
        for _, lo, hi in self.ranges:
            empty = (raw[..., lo:hi] == 0).all(-1, keepdim=True)
            keep[..., lo:hi] = (~empty).float().expand_as(keep[..., lo:hi])
        return torch.where(keep > 0, z, torch.zeros_like(z))


class Dense(nn.Module):
    """``x @ weight + bias`` with ``weight`` ``[in, out]``."""

    def __init__(self, inp, out):
        super().__init__()
        bound = 1.0 / inp**0.5
        self.weight = nn.Parameter(torch.empty(inp, out).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(out).uniform_(-bound, bound))

    def forward(self, x):
        return x @ self.weight + self.bias


class TemporalConv(nn.Module):
    """1-D convolution over time on ``[batch, time, channels]``: ``pad_left`` zeros before the
    first shot, the rest of ``dilation * (kernel - 1)`` after the last (a 'same' output)."""

    def __init__(self, inp, out, kernel, dilation, pad_left):
        super().__init__()
        bound = 1.0 / (inp * kernel) ** 0.5
        self.weight = nn.Parameter(torch.empty(inp, kernel * out).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(out).uniform_(-bound, bound))
        self.kernel, self.dilation, self.pad_left, self.out = kernel, dilation, pad_left, out

    def conv1d_weight(self):
        """The weight as ``nn.Conv1d`` holds it, ``[out, in, kernel]``."""
        inp = self.weight.shape[0]
        return self.weight.reshape(inp, self.kernel, self.out).permute(2, 0, 1)

    def forward(self, x):
        pad_right = self.dilation * (self.kernel - 1) - self.pad_left
        h = F.pad(x.transpose(1, 2), (self.pad_left, pad_right))
        y = F.conv1d(h, self.conv1d_weight(), self.bias, dilation=self.dilation)
        return y.transpose(1, 2)


class BiLstmLayer(nn.Module):
    """One bidirectional LSTM layer (torch's gate order i, f, g, o); each movie's backward pass
    starts at its own last shot. Outputs ``[batch, time, 2 * hidden]`` (forward states, then
    backward); outputs on padded shots are unspecified."""

    def __init__(self, inp, hidden):
        super().__init__()
        bound = 1.0 / hidden**0.5
        self.w_ih = nn.Parameter(torch.empty(inp, 8 * hidden).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(8 * hidden).uniform_(-bound, bound))
        self.w_hh = nn.Parameter(torch.empty(2, hidden, 4 * hidden).uniform_(-bound, bound))
        self.hidden = hidden

    @torch.no_grad()
    def from_torch(self, lstm, layer=0):
        """Copy layer ``layer`` of a bidirectional ``nn.LSTM`` (``batch_first`` or not)."""
        h = self.hidden
        g = lambda name: getattr(lstm, f"{name}_l{layer}")
        gr = lambda name: getattr(lstm, f"{name}_l{layer}_reverse")
        self.w_ih.copy_(torch.cat([g("weight_ih").t(), gr("weight_ih").t()], 1))
        self.bias.copy_(torch.cat([g("bias_ih") + g("bias_hh"), gr("bias_ih") + gr("bias_hh")]))
        self.w_hh.copy_(torch.stack([g("weight_hh").t(), gr("weight_hh").t()]))
        assert self.w_hh.shape == (2, h, 4 * h)
        return self

    def _run(self, gates, w_hh):
        b, t, _ = gates.shape
        h = gates.new_zeros(b, self.hidden)
        c = gates.new_zeros(b, self.hidden)
        out = []
        for s in range(t):
            i, f, g, o = (gates[:, s] + h @ w_hh).chunk(4, 1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            out.append(h)
        return torch.stack(out, 1)

    def forward(self, x, lengths):
        b, t, _ = x.shape
        h4 = 4 * self.hidden
        gates = x @ self.w_ih + self.bias
        rev = reverse_index(lengths, t, x.device)
        fwd = self._run(gates[..., :h4], self.w_hh[0])
        bwd_gates = torch.gather(gates[..., h4:], 1, rev[..., None].expand(b, t, h4))
        bwd = self._run(bwd_gates, self.w_hh[1])
        bwd = torch.gather(bwd, 1, rev[..., None].expand(b, t, self.hidden))
        return torch.cat([fwd, bwd], 2)


def reverse_index(lengths, t, device=None):
    """``[batch, t]`` positions reversing each movie within its own length (padding stays)."""
    idx = torch.arange(t, device=device).repeat(len(lengths), 1)
    for bi, n in enumerate(lengths):
        n = min(int(n), t)
        idx[bi, :n] = torch.arange(n - 1, -1, -1, device=device)
    return idx


class Twin(nn.Module):
    """What every twin shares: the normalisation buffers and scoring raw features."""

    def __init__(self, input_dims=None, input_dim=None):
        super().__init__()
        self.input_dims = resolve_dims(input_dims, input_dim)
        self.ranges = modality_ranges(self.input_dims)
        self.normalization = Normalization(self.input_dims)

    def score(self, raw, lengths):
        """Probabilities ``[batch, shots - 1]`` for raw (unnormalised) features, zero-padded."""
        x = self.normalization(raw) * shot_mask(lengths, raw.shape[1], raw.device)
        return torch.sigmoid(self.forward(x, lengths))


class WaveNet(Twin):
    """The challenge notebook's dilated convolution stack (``src/model/wavenet.rs``): kernel 2,
    dilation ``2^k`` for layer ``k`` of each block, ``r // 2`` zeros on the left, ReLU and the
    shot mask after each; a dense ``last`` layer and one logit per shot. The output at shot
    ``i + 1`` is the boundary after shot ``i``."""

    def __init__(self, input_dims=None, num_layers=9, num_blocks=3, filters=13, last_filters=10, input_dim=None):
        super().__init__(input_dims, input_dim)
        rates = [2**k for _ in range(num_blocks) for k in range(num_layers)]
        c = sum(self.input_dims.values())
        self.n_convs = len(rates)
        for i, r in enumerate(rates):
            setattr(self, f"conv{i}", TemporalConv(c, filters, 2, r, r // 2))
            c = filters
        self.last = Dense(filters, last_filters)
        self.out = Dense(last_filters, 1)

    def forward(self, x, lengths):
        mask = shot_mask(lengths, x.shape[1], x.device)
        h = x
        for i in range(self.n_convs):
            h = F.relu(getattr(self, f"conv{i}")(h)) * mask
        per_shot = self.out(self.last(h)).squeeze(2)
        return per_shot[:, 1:]


class BiLstm(Twin):
    """Stacked bidirectional LSTM layers and one logit per shot (``src/model/bilstm.rs``); the
    output at shot ``i + 1`` is the boundary after shot ``i``."""

    def __init__(self, input_dims=None, hidden=32, layers=2, input_dim=None):
        super().__init__(input_dims, input_dim)
        self.n_layers = layers
        inp = sum(self.input_dims.values())
        for i in range(layers):
            setattr(self, f"lstm{i}", BiLstmLayer(inp, hidden))
            inp = 2 * hidden
        self.out = Dense(inp, 1)

    def forward(self, x, lengths):
        mask = shot_mask(lengths, x.shape[1], x.device)
        h = x
        for i in range(self.n_layers):
            h = getattr(self, f"lstm{i}")(h, lengths) * mask
        return self.out(h).squeeze(2)[:, 1:]


class MultiScale(Twin):
    """SceneLab's default model (``src/model/multiscale.rs``): per modality and window width
    ``w``, the cosine similarity of the sums of the unit-length shot features of the ``w``
    shots ending at each transition and of the ``w`` shots after it; optionally the
    left-minus-right differences of the means of a learned projection; residual dilated
    temporal convolutions over the transitions; one logit per transition.

    The similarities take no gradient (they depend on the input only), as in SceneLab."""

    def __init__(
        self,
        input_dims=None,
        similarity_widths=(1, 2, 4, 8, 16),
        projection_dim=0,
        difference_widths=(2, 8),
        hidden=64,
        kernel=3,
        dilations=(1, 2, 4),
        input_dim=None,
    ):
        super().__init__(input_dims, input_dim)
        self.similarity_widths = list(similarity_widths)
        self.difference_widths = list(difference_widths) if projection_dim > 0 else []
        n_features = len(MODALITY_NAMES) * len(self.similarity_widths)
        if projection_dim > 0:
            self.projection = Dense(sum(self.input_dims.values()), projection_dim)
            n_features += projection_dim * len(self.difference_widths)
        else:
            self.projection = None
        c = n_features
        self.n_convs = len(dilations)
        for i, d in enumerate(dilations):
            setattr(self, f"conv{i}", TemporalConv(c, hidden, kernel, d, d * (kernel - 1) // 2))
            c = hidden
        self.out = Dense(c, 1)

    @staticmethod
    def left_sums(x, w):
        """``s[:, t] = x[:, t - w + 1] + … + x[:, t]`` (rows before 0 count 0)."""
        return sum(shift_time(x, -k) for k in range(w))

    def similarities(self, x, mask):
        cols = {}
        for mi, (_, lo, hi) in enumerate(self.ranges):
            xm = x[..., lo:hi] * mask
            norm = xm.norm(dim=2, keepdim=True)
            unit = torch.where(norm > 0, xm / norm.clamp_min(1e-30), torch.zeros_like(xm))
            for wi, w in enumerate(self.similarity_widths):
                left = self.left_sums(unit, w)
                right = shift_time(left, w)  # the w shots after the transition
                dot = (left * right).sum(2)
                denom = (left.square().sum(2) * right.square().sum(2)).sqrt()
                cos = torch.where(denom > 0, dot / denom.clamp_min(1e-30), torch.zeros_like(dot))
                cols[wi * len(MODALITY_NAMES) + mi] = cos
        return torch.stack([cols[k] for k in sorted(cols)], 2)

    def differences(self, x, mask):
        z = self.projection(x) * mask
        cols = []
        for w in self.difference_widths:
            sums, counts = self.left_sums(z, w), self.left_sums(mask, w)
            left = sums / counts.clamp_min(1)
            right = shift_time(sums, w) / shift_time(counts, w).clamp_min(1)
            cols.append(left - right)
        return torch.cat(cols, 2)

    def forward(self, x, lengths):
        t = x.shape[1]
        room = max(self.similarity_widths + self.difference_widths)
        x = F.pad(x, (0, 0, 0, room))
        mask = shot_mask(lengths, t + room, x.device)
        transitions = shift_time(mask, 1)
        parts = [self.similarities(x.detach(), mask)]
        if self.projection is not None:
            parts.append(self.differences(x, mask))
        h = torch.cat(parts, 2) * transitions
        for i in range(self.n_convs):
            y = F.relu(getattr(self, f"conv{i}")(h)) * transitions
            h = y if i == 0 else y + h
        return self.out(h).squeeze(2)[:, : t - 1]


WINDOW = 4


class LgssBranch(nn.Module):
    """One modality's LGSS boundary network (``src/model/lgss.rs``): over windows of 4 shots,
    a ``[4 x 1]`` convolution to ``channels`` channels and the max over channels (one value per
    feature), and the per-channel cosine similarity of the two half-windows after a shared
    ``[2 x 1]`` convolution; a BiLSTM over sequences of ``seq_len`` windows; two dense layers
    to two-class logits."""

    def __init__(self, dim, channels, hidden, dense):
        super().__init__()
        b4, b2 = 1.0 / WINDOW**0.5, 1.0 / (WINDOW // 2) ** 0.5
        self.conv = nn.Module()
        self.conv.weight = nn.Parameter(torch.empty(channels, WINDOW).uniform_(-b4, b4))
        self.conv.bias = nn.Parameter(torch.empty(channels).uniform_(-b4, b4))
        self.cos_conv = nn.Module()
        self.cos_conv.weight = nn.Parameter(torch.empty(channels, WINDOW // 2).uniform_(-b2, b2))
        self.cos_conv.bias = nn.Parameter(torch.empty(channels).uniform_(-b2, b2))
        self.lstm = BiLstmLayer(dim + channels, hidden)
        self.fc1 = Dense(2 * hidden, dense)
        self.fc2 = Dense(dense, 2)

    #: Windows per piece of the half-window cosine: its ``[b, windows, channels, d]``
    #: intermediates stay small (full size: 512 channels x 2048 place features).
    CHUNK = 16

    def window_channel_max(self, x, start, end):
        """The ``[4 x 1]`` convolution across windows ``start..end`` and the max over its
        channels: ``[b, end - start, d]``."""
        windows = torch.stack([x[:, start + k : end + k] for k in range(WINDOW)], 3)  # [b, n, d, 4]
        return (windows @ self.conv.weight.t() + self.conv.bias).amax(3)

    def half_window_cosine(self, x, start, end):
        """Per-channel cosine similarity of the two half-windows of windows ``start..end``
        after the shared ``[2 x 1]`` convolution: ``[b, end - start, channels]``."""
        u = self.cos_conv.weight
        beta = self.cos_conv.bias[None, None, :, None]

        def half(k):  # rows start+k and start+k+1 of each window, convolved: [b, n, c, d]
            r0 = x[:, start + k : end + k, None, :]
            r1 = x[:, start + k + 1 : end + k + 1, None, :]
            return u[None, None, :, 0, None] * r0 + u[None, None, :, 1, None] * r1 + beta

        a, b = half(0), half(2)
        dot = (a * b).sum(3)
        return dot / (a.square().sum(3) * b.square().sum(3)).clamp_min(1e-16).sqrt()

    def forward(self, x, valid_windows, seq_len):
        b, t, d = x.shape
        nw = t + 1 - WINDOW
        pieces = [(s, min(s + self.CHUNK, nw)) for s in range(0, nw, self.CHUNK)]
        ctx = torch.cat([self.window_channel_max(x, s, e) for s, e in pieces], 1)
        cos = torch.cat([self.half_window_cosine(x, s, e) for s, e in pieces], 1)
        h = torch.cat([ctx, cos], 2)
        n_seq = -(-nw // seq_len)
        h = F.pad(h, (0, 0, 0, n_seq * seq_len - nw)).reshape(b * n_seq, seq_len, -1)
        lengths = [min(max(v - s * seq_len, 0), seq_len) for v in valid_windows for s in range(n_seq)]
        h = self.lstm(h, lengths)
        logits = self.fc2(F.relu(self.fc1(h)))
        boundary = logits[..., 1] - logits[..., 0]
        return boundary.reshape(b, n_seq * seq_len)[:, :nw]


class Lgss(Twin):
    """LGSS (Rao et al., CVPR 2020) as SceneLab runs it (``src/model/lgss.rs``): one branch per
    modality, their boundary logits summed with ``weights``; transition ``j`` takes window
    ``j - 1``'s score (the first and last transitions their nearest window's)."""

    def __init__(self, input_dims=None, channels=512, seq_len=10, hidden=512, dense=100, weights=(0.5, 0.2, 0.2, 0.1), input_dim=None):
        super().__init__(input_dims, input_dim)
        self.seq_len, self.weights = seq_len, list(weights)
        for name, lo, hi in self.ranges:
            setattr(self, name, LgssBranch(hi - lo, channels, hidden, dense))

    def forward(self, x, lengths):
        t = x.shape[1]
        x = F.pad(x, (0, 0, 0, max(WINDOW - t, 0)))
        nw = x.shape[1] + 1 - WINDOW
        valid = [max(int(n) + 1 - WINDOW, 1) for n in lengths]
        total = 0
        for (name, lo, hi), w in zip(self.ranges, self.weights):
            total = total + w * getattr(self, name)(x[..., lo:hi], valid, self.seq_len)
        idx = torch.tensor([[min(max(j - 1, 0), v - 1) for j in range(t - 1)] for v in valid], device=x.device)
        return torch.gather(total, 1, idx.reshape(len(valid), max(t - 1, 0)))


CLASSES = {"WaveNet": WaveNet, "BiLstm": BiLstm, "MultiScale": MultiScale, "Lgss": Lgss}


def build(spec):
    """A twin from a ``config.json``'s ``torch`` section: ``{"class": …, "kwargs": {…}}``."""
    return CLASSES[spec["class"]](**spec["kwargs"])


def load(model_dir):
    """The twin of a model folder (``scenelab export-torch`` or ``save`` wrote it), weights and
    normalisation loaded, in eval mode."""
    from safetensors.torch import load_file

    with open(os.path.join(model_dir, "config.json")) as f:
        config = json.load(f)
    model = build(config["torch"])
    model.load_state_dict(load_file(os.path.join(model_dir, "model.safetensors")))
    return model.eval()


def spec_of(model):
    """The ``torch`` section describing ``model``'s class and sizes."""
    return {"format": TWIN_FORMAT, "class": type(model).__name__, "kwargs": model.kwargs}


def save(model, model_dir):
    """Write ``model.safetensors`` and a ``config.json`` naming the twin: a folder
    ``scenelab predict --model`` and the app's Load model read."""
    from safetensors.torch import save_file

    os.makedirs(model_dir, exist_ok=True)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, os.path.join(model_dir, "model.safetensors"))
    with open(os.path.join(model_dir, "config.json"), "w") as f:
        json.dump({"torch": spec_of(model)}, f, indent=1)


def _remember_kwargs(cls):
    """Keep each twin's constructor arguments (``model.kwargs``) for ``save``."""
    import inspect

    init = cls.__init__
    sig = inspect.signature(init)

    def wrapped(self, *args, **kwargs):
        bound = sig.bind(self, *args, **kwargs)
        bound.apply_defaults()
        init(self, *args, **kwargs)
        self.kwargs = {k: (list(v) if isinstance(v, tuple) else v) for k, v in bound.arguments.items() if k not in ("self", "input_dim")}
        # The widths as resolved, so that SceneLab reads what the twin was built for.
        self.kwargs["input_dims"] = dict(self.input_dims)

    cls.__init__ = wrapped
    return cls


for _cls in CLASSES.values():
    _remember_kwargs(_cls)
