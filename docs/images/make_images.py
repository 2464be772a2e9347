"""Render the PNGs in this folder: `python docs/images/make_images.py` (a few seconds).

training_spiral.png is exactly what the README's command line writes:
    backprop-kit train --dataset spiral --layers 2 --neurons 16 --activation tanh --lr 0.03 \
        --batch-size 16 --epochs 200 --plot docs/images/training_spiral.png
"""
from pathlib import Path

import backprop_kit as bk
from backprop_kit import cli, plots

HERE = Path(__file__).resolve().parent


def trained(name, hidden, activation="tanh", epochs=100, classes=2, **options):
    data = bk.datasets.make(name, n=400, noise=0.1, test_fraction=0.3, seed=0, classes=classes)
    net = bk.Network([data.n_inputs, *hidden, data.n_outputs], activation=activation, output=data.output,
                     init=options.pop("init", "xavier"), scale=options.pop("scale", 0.1), seed=0)
    return bk.Trainer(net, data, **options).run(epochs)


def main():
    cli.main(["train", "--dataset", "spiral", "--layers", "2", "--neurons", "16", "--activation", "tanh", "--lr", "0.03",
              "--batch-size", "16", "--epochs", "200", "--quiet", "--plot", str(HERE / "training_spiral.png")])
    plots.TrainingFigure(trained("spiral", (32, 32), "relu", 150, classes=3, init="he", lr=0.01,
                                 optimizer="adam"), pyplot=False).save(HERE / "training_spiral_3_classes.png")
    plots.TrainingFigure(trained("sine", (16, 16), "tanh", 150, lr=0.05, optimizer="momentum", clip=0.5),
                         pyplot=False).save(HERE / "training_sine_clipped.png")
    plots.TrainingFigure(trained("sine", (16, 16), "tanh", 20, lr=10.0), pyplot=False).save(HERE / "diverged.png")

    # vanishing gradients: 8 sigmoid layers, one line per layer from input side (dark) to output (light)
    deep = trained("moons", (16,) * 7, "sigmoid", 30, lr=0.5)
    fig = plots.new_figure((6.0, 3.4), pyplot=False)
    plots.GradientNormView(fig.add_subplot(), layers=8).update(deep.history, draw=False)
    fig.suptitle("8 sigmoid layers: the gradient shrinks on its way back to the input", fontsize=plots.TITLE_SIZE)
    fig.savefig(HERE / "gradients_deep_sigmoid.png", dpi=150)

    # each activation with the pre-activations of a real layer (second hidden layer, wide init)
    data = bk.datasets.make("spiral", n=400, noise=0.1, seed=0)
    fig = plots.new_figure((12.0, 3.3), pyplot=False)
    for ax, name in zip(fig.subplots(1, 4), ["sigmoid", "tanh", "relu", "leaky_relu"]):
        net = bk.Network([2, 32, 32, 1], activation=name, init="normal", scale=1.0, seed=0)
        plots.ActivationView(ax, name).update(bk.forward(net, data.X_train).pre[1], draw=False)
    fig.suptitle("Activations f, their derivatives f′, and the pre-activations z of layer 2 "
                 "(weights drawn with std 1)", fontsize=plots.TITLE_SIZE)
    fig.savefig(HERE / "activations.png", dpi=150)


if __name__ == "__main__":
    main()
