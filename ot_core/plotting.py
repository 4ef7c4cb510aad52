"""Figures shared by the chapters: samples, trajectories, snapshots of μ_t, velocity fields,
training curves, an animation that plays in the static book, and a slider for live sessions."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch

SOURCE, TARGET, MODEL, EXACT = "tab:blue", "tab:orange", "tab:green", "black"


def _np(x):
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def scatter(ax, x, color=None, label=None, s=4, alpha=0.5, **kw):
    """Scatter the first two coordinates of the rows of x."""
    x = _np(x)
    ax.scatter(x[:, 0], x[:, 1], s=s, alpha=alpha, color=color, label=label, lw=0, **kw)
    ax.set_aspect("equal")
    return ax


def trajectories(model, x, times=None):
    """Positions model.path(x, t) on a time grid: a (len(times), n, d) tensor."""
    times = np.linspace(0, 1, 41) if times is None else times
    return torch.stack([model.path(x, float(t)) for t in times])


def plot_trajectories(ax, paths, color="0.4", lw=0.6, alpha=0.5, ends=True, label=None):
    """Draw paths (T, n, d) as lines, with start (blue) and end (orange) points."""
    p = _np(paths)
    for i in range(p.shape[1]):
        ax.plot(p[:, i, 0], p[:, i, 1], color=color, lw=lw, alpha=alpha, label=label if i == 0 else None)
    if ends:
        ax.scatter(p[0, :, 0], p[0, :, 1], s=8, color=SOURCE, zorder=3)
        ax.scatter(p[-1, :, 0], p[-1, :, 1], s=8, color=TARGET, zorder=3)
    ax.set_aspect("equal")
    return ax


def snapshots(model, x, times=(0, 0.25, 0.5, 0.75, 1.0), reference=None, size=2.6, lims=None):
    """One panel per time: samples of μ_t = law of model.path(x, t), and of the reference's μ_t."""
    fig, axes = plt.subplots(1, len(times), figsize=(size * len(times), size), sharex=True, sharey=True)
    for ax, t in zip(np.atleast_1d(axes), times):
        if reference is not None:
            scatter(ax, reference.path(x, float(t)), color="0.6", s=3, label="exact")
        scatter(ax, model.path(x, float(t)), color=MODEL, s=3, label="learned")
        ax.set_title(f"t = {t:g}")
        if lims is not None:
            ax.set_xlim(*lims[0])
            ax.set_ylim(*lims[1])
    if reference is not None:
        np.atleast_1d(axes)[0].legend(loc="lower left", fontsize=7, markerscale=3)
    fig.tight_layout()
    return fig


def plot_history(history, keys=("path_loss", "critic_loss", "action", "gap"), reference=None, window=20):
    """Training curves of Algorithm 1 (raw and a running mean); ``reference`` marks the exact action."""
    fig, axes = plt.subplots(1, len(keys), figsize=(3.2 * len(keys), 2.8))
    for ax, key in zip(np.atleast_1d(axes), keys):
        v = np.asarray(history[key])
        ax.plot(v, color="0.7", lw=0.8)
        if len(v) >= window:
            ax.plot(np.arange(window - 1, len(v)), np.convolve(v, np.ones(window) / window, "valid"), color="k")
        if key == "action" and reference is not None:
            ax.axhline(reference, color="tab:red", ls="--", label="exact")
            ax.legend(fontsize=8)
        if key == "gap":
            ax.axhline(0, color="tab:red", ls="--", lw=0.8)
        ax.set_title(key.replace("_", " "))
        ax.set_xlabel("outer step")
    fig.tight_layout()
    return fig


def quiver(ax, field, t, lims, n=15, color=MODEL, scale=None, label=None):
    """Arrows of a velocity field v(z, t) on an n × n grid over lims = ((x0, x1), (y0, y1))."""
    gx, gy = np.meshgrid(np.linspace(*lims[0], n), np.linspace(*lims[1], n))
    z = torch.tensor(np.stack([gx.ravel(), gy.ravel()], 1), dtype=torch.float32)
    v = _np(field(z, torch.full((len(z), 1), float(t))))
    return ax.quiver(gx, gy, v[:, 0].reshape(n, n), v[:, 1].reshape(n, n), color=color, scale=scale,
                     angles="xy", label=label)


def animate(frames, times=None, lims=None, background=None, interval=80, size=4.0, color=MODEL):
    """An animation of point clouds frames[k] (n, 2); returns HTML that plays in a static page."""
    from matplotlib import animation

    frames = _np(frames)
    fig, ax = plt.subplots(figsize=(size, size))
    if background is not None:
        for pts, c in background:
            scatter(ax, pts, color=c, s=3, alpha=0.25)
    pts = ax.scatter(frames[0][:, 0], frames[0][:, 1], s=4, color=color, lw=0)
    if lims is None:
        lo, hi = frames.min((0, 1)), frames.max((0, 1))
        pad = 0.05 * (hi - lo)
        lims = ((lo[0] - pad[0], hi[0] + pad[0]), (lo[1] - pad[1], hi[1] + pad[1]))
    ax.set_xlim(*lims[0])
    ax.set_ylim(*lims[1])
    ax.set_aspect("equal")
    title = ax.set_title("")

    def update(k):
        pts.set_offsets(frames[k][:, :2])
        if times is not None:
            title.set_text(f"t = {times[k]:.2f}")
        return pts, title

    anim = animation.FuncAnimation(fig, update, frames=len(frames), interval=interval, blit=False)
    html = self_contained(anim.to_jshtml(default_mode="reflect"))
    plt.close(fig)
    from IPython.display import HTML

    return HTML(html)


_ICONS = {"fa-minus": "−", "fa-fast-backward": "⏮", "fa-step-backward": "⏪", "fa-play fa-flip-horizontal": "◀",
          "fa-pause": "⏸", "fa-play": "▶", "fa-step-forward": "⏩", "fa-fast-forward": "⏭", "fa-plus": "+"}


def self_contained(html: str) -> str:
    """Matplotlib's player loads Font Awesome from a CDN for its button icons; use plain
    symbols instead, so that the animation works offline and without console errors."""
    import re

    html = re.sub(r'<link rel="stylesheet"\s+href="https://maxcdn[^"]*font-awesome[^"]*">', "", html)
    for icon, symbol in _ICONS.items():
        html = html.replace(f'<i class="fa {icon}"></i>', symbol)
    return html


def time_slider(draw, t0: float = 0.5, step: float = 0.05, description: str = "t"):
    """An ipywidgets slider over t in [0, 1] calling ``draw(t)`` (which makes a figure); for live
    sessions. The static book shows the figure drawn once at the default instead."""
    import ipywidgets as widgets

    return widgets.interact(draw, t=widgets.FloatSlider(value=t0, min=0.0, max=1.0, step=step,
                                                         description=description, continuous_update=False))
