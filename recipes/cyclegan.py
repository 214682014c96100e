"""Title: Unpaired image-to-image translation with CycleGAN, tracked in MLflow.

Description: trains the CycleGAN of Zhu et al. (2017): two ResNet generators
(G: A -> B, F: B -> A) against two 70x70 PatchGANs, with the least-squares
GAN loss, cycle and identity losses, image pools and the linear decay of the
learning rate. On the embedded domains, whose true mapping is known, it
scores both directions on held-out images beside doing nothing (identity)
and beside the same generator trained on the true pairs (the upper bound),
and records everything in one MLflow run: parameters, per-epoch losses and
held-out scores, a sample grid per epoch (the UI's image slider), an HTML
results page, and both generators as models that take and give uint8 images.

Needs: zoo's dependencies. The default data (`rgb2bgr`: crops of
scikit-image's sample photos, domain B with red and blue swapped) ship
inside scikit-image, so the recipe runs offline.

    python recipes/cyclegan.py                          # rgb2bgr at 64 px
    python recipes/cyclegan.py --data color2sepia
    python recipes/cyclegan.py --data horse2zebra/ --image-size 256 \\
        --generator resnet9 --ngf 64 --epochs 100 --decay-epochs 100   # the paper's run
    python recipes/cyclegan.py --data tfds:cycle_gan/horse2zebra ...
    python recipes/cyclegan.py ... --resume             # after a crash or Ctrl-C
    zoo run cyclegan ...                                # the same
    zoo translate runs/cyclegan/.../generators photo.png --direction BtoA --out out/
"""

from __future__ import annotations

import argparse
import json
import sys
from types import SimpleNamespace

import numpy as np

from zoo.quiet import quiet_tensorflow

quiet_tensorflow()  # before TensorFlow loads; --verbose keeps its logs

import zoo  # noqa: E402
from zoo.arguments import check_number, check_source, parse_checked  # noqa: E402
from zoo.gan.distribution import extractor_for  # noqa: E402
from zoo.gan.recipe_arguments import (  # noqa: E402
    add_gan_arguments,
    check_gan_arguments,
    gan_config_fields,
)
from zoo.recipe_run import RecipeRun, add_run_arguments  # noqa: E402
from zoo.text import slug  # noqa: E402

EXPERIMENT = "cyclegan"
GENERATORS = {"resnet9": 9, "resnet6": 6}
# The default embedded run: about ten minutes on a 2-core CPU, upper bound
# included. The paper trains 100 + 100 epochs at 256 px with resnet9, ngf 64.
DEFAULTS = SimpleNamespace(data="rgb2bgr", image_size=64, generator="resnet6", ngf=16,
                           epochs=6, decay_epochs=3, batch_size=1, lambda_identity=0.5)
SAMPLE_COUNT = 4
PAGE_ROWS = 8
MODEL_ROW = "CycleGAN"
DIRECTION_NAMES = {"AtoB": "A -> B", "BtoA": "B -> A"}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog="cyclegan", description="Train CycleGAN on two unpaired image domains.")
    parser.add_argument("--data", default=DEFAULTS.data,
                        help="a folder with trainA/ and trainB/ (and testA/, testB/), "
                             "tfds:cycle_gan/NAME, or the embedded rgb2bgr / color2sepia")
    parser.add_argument("--image-size", type=int, default=DEFAULTS.image_size,
                        help="training side in pixels, a multiple of 4 (at least 24)")
    parser.add_argument("--generator", choices=sorted(GENERATORS), default=DEFAULTS.generator,
                        help="residual blocks of the generators: the paper uses resnet9 at "
                             "256 px, resnet6 at 128 px")
    add_gan_arguments(parser, epochs=DEFAULTS.epochs, decay_epochs=DEFAULTS.decay_epochs,
                      ngf=DEFAULTS.ngf, batch_size=DEFAULTS.batch_size,
                      epoch_unit="the larger domain once")
    parser.add_argument("--lambda-identity", type=float, default=DEFAULTS.lambda_identity,
                        help="weight of the identity losses relative to the cycle losses "
                             "(0.5 in the paper; 0 turns them off)")
    parser.add_argument("--upper-bound", choices=["paired", "none"], default="paired",
                        help="where the true mapping is known, also train the same generator "
                             "on the true pairs with the same budget, to compare")
    add_run_arguments(parser, saves="checkpoints, samples and the saved generators",
                      registers="register the generators as NAME-AtoB and NAME-BtoA (alias "
                                "'candidate'; 'champion' when the held-out PSNR against the "
                                "true mapping beats the current champion's and identity's)")
    return parse_checked(parser, argv, check_arguments)


def check_arguments(args) -> None:
    """What can be checked before the data is read and TensorFlow is loaded."""
    from zoo.arguments import ArgumentError

    check_source("--data", args.data, "unpaired")
    check_number("--image-size", args.image_size, 24)
    if args.image_size % 4:
        raise ArgumentError("--image-size", f"{args.image_size} is not a multiple of 4; the "
                                            f"generators halve it twice. Use 64, 128 or 256.")
    check_gan_arguments(args)
    check_number("--lambda-identity", args.lambda_identity, 0)


def make_config(args):
    from zoo.gan.cyclegan.training import CycleGANConfig

    return CycleGANConfig(**gan_config_fields(args), n_blocks=GENERATORS[args.generator],
                          lambda_identity=args.lambda_identity)


def true_mappings(source: str):
    """{"AtoB": truth or None, "BtoA": truth or None} for the data source."""
    from zoo.data import EMBEDDED, ground_truth, inverse_ground_truth

    if EMBEDDED.get(source) != "unpaired":
        return {"AtoB": None, "BtoA": None}
    return {"AtoB": ground_truth(source), "BtoA": inverse_ground_truth(source)}


def main(argv=None):
    args = parse_args(argv)
    run = RecipeRun(args, EXPERIMENT)
    from zoo.data import load_unpaired
    from zoo.files import atomic_write_text
    from zoo.gan import reports
    from zoo.gan.cyclegan.resnet import with_image_size
    from zoo.gan.cyclegan.training import CycleGANConfig, train_cyclegan, validation_batches
    from zoo.gan.cyclegan.upper_bound import train_paired_generator
    from zoo.gan.evaluation import comparison_table, input_baseline, paired_scores
    from zoo.gan.inference import float_translator, save_generator, served_translator, uint8_model
    from zoo.gan.results_page import write_results_page
    from zoo.gan.cyclegan import GENERATOR_FILES

    # 1. Data: each domain's uint8 images in a fixed order; training shuffles
    #    and jitters each epoch with seeds of the epoch (exact resume).
    data = load_unpaired(args.data, args.image_size, args.batch_size, augment=False,
                         shuffle=False, seed=args.seed)
    if data.test_a is None or data.test_b is None:
        sys.exit("cyclegan: error: no held-out images to score on; give a folder with testA/ "
                 "and testB/, or more images.")
    truth = true_mappings(args.data)
    test = validation_batches(data.test_a, data.test_b, truth["AtoB"], truth["BtoA"])
    samples_a = _first_images(data.test_a, SAMPLE_COUNT)
    samples_b = _first_images(data.test_b, SAMPLE_COUNT)

    # 2. The configuration, or the one --resume finds beside its checkpoints.
    previous = run.open_output(f"{slug(args.data)}_{args.image_size}px")
    config = CycleGANConfig(**previous["config"]) if previous else make_config(args)

    def train(**tracked):
        return train_cyclegan(config, data.train_a, data.train_b, test,
                              checkpoint_dir=run.checkpoint_dir, resume=run.resuming,
                              strategy=run.strategy, **tracked)

    if not run.is_chief:
        train(verbose=0)
        return run.worker_finished()

    with run.tracked(f"cyclegan-{slug(args.data)}", tags={"data_source": args.data},
                     params={"cyclegan": config.to_dict(), "data": args.data,
                             "upper_bound": args.upper_bound}):
        import mlflow

        def on_epoch_end(epoch, logs, model):
            if run.log_epoch(epoch, logs):
                reports.CycleSamples(samples_a, samples_b, float_translator(model.generator_ab),
                                     float_translator(model.generator_ba), run.output / "samples",
                                     reports.EpochImageLog(run.steps, mlflow))(epoch)

        # 3. Train, then the paired upper bound with the same budget.
        result = train(on_epoch_end=on_epoch_end, extra_state=run.extra_state)
        generators = {"AtoB": result.model.generator_ab, "BtoA": result.model.generator_ba}
        upper = {}
        if args.upper_bound == "paired":
            for direction, train_images in (("AtoB", data.train_a), ("BtoA", data.train_b)):
                if truth[direction] is not None:
                    print(f"[upper bound] Training the generator {direction} on the true "
                          f"pairs ({config.total_epochs} epochs)...", flush=True)
                    upper[direction] = train_paired_generator(
                        config, train_images, truth[direction], name=f"paired_{direction}")

        # 4. Both generators: .keras files of built-in layers that take any
        #    size (a multiple of 4), uint8 in and out, written before
        #    anything is sent to MLflow; and SavedModels.
        folder = run.output / "generators"
        served = {}
        for direction, generator in generators.items():
            served[direction] = uint8_model(with_image_size(generator),
                                            name=f"cyclegan_{direction}")
            save_generator(served[direction], folder / GENERATOR_FILES[direction],
                           run.output / f"savedmodel_{direction}")

        # 5. Held-out scores of the generators as saved: against the true
        #    mapping where it is known, beside identity and the upper bound.
        extractor = extractor_for(args.fid)
        tables, all_rows = [], {}
        for direction, images in (("AtoB", data.test_a), ("BtoA", data.test_b)):
            if truth[direction] is None:
                continue
            pairs = _with_truth(images, truth[direction])
            rows = {"identity": input_baseline(pairs, extractor=extractor),
                    MODEL_ROW: paired_scores(served_translator(served[direction]), pairs,
                                             extractor=extractor)}
            if direction in upper:
                rows["paired (upper bound)"] = paired_scores(
                    float_translator(upper[direction]), pairs, extractor=extractor)
            all_rows[direction] = rows
            tables.append(f"{DIRECTION_NAMES[direction]}, against the true mapping "
                          f"({rows[MODEL_ROW]['images']} images):\n{comparison_table(rows)}")
            run.log_metrics(reports.score_metrics(rows, MODEL_ROW, split=f"test/{direction}"))
        table = "\n\n".join(tables) or ("No true mapping is known for this data: the "
                                        "sample grids and the cycle scores show the run.")
        print(f"\nHeld-out images:\n{table}")
        atomic_write_text(run.output / "scores.json",
                          json.dumps(all_rows, indent=1, default=float))

        # 6. The results page: each image, its translation, the truth where
        #    known, and the way back.
        page = write_results_page(
            run.output / "results.html", f"CycleGAN on {args.data} ({args.image_size} px)",
            ["input", "translation", "true translation", "back again"],
            _page_rows(data, served, truth), table)
        run.steps("results page", mlflow.log_artifact, str(page))
        run.steps("scores table", mlflow.log_text, table, "evaluation/scores.txt")

        # 7. Both MLflow models and, on request, the registry. Without a true
        #    mapping there is nothing to promote on.
        lines = [f"Saved generators: `{folder.resolve()}`"]
        for direction, example in (("AtoB", samples_a), ("BtoA", samples_b)):
            rows = all_rows.get(direction)
            lines += [f"{direction}: {line}" for line in run.log_model(
                served[direction], example[:2], name=f"generator_{direction}",
                registered_name=f"{args.register}-{direction}",
                metric=f"test/{direction}/psnr",
                chance_level=rows["identity"]["psnr"] if rows else float("inf"))]
        run.describe(_description(args, config, all_rows, lines))

    # 8. What a person wants to know at the end.
    for direction, rows in all_rows.items():
        verdict = "beats" if reports.beats(rows, MODEL_ROW, against=["identity"]) else \
            "does NOT beat"
        print(f"\n{DIRECTION_NAMES[direction]}: CycleGAN {verdict} identity on held-out PSNR: "
              + ", ".join(f"{name} {scores['psnr']:.2f} dB" for name, scores in rows.items()))
    run.print_end({"Generators": f"{folder}   (translate with: zoo translate {folder} "
                                 f"IMAGE... --direction AtoB|BtoA --out DIR)",
                   "Results page": str(page)}, folder)
    return SimpleNamespace(result=result, upper=upper, rows=all_rows, output=run.output,
                           run_id=run.run_id)


def _first_images(dataset, count: int) -> np.ndarray:
    return next(dataset.unbatch().batch(count).as_numpy_iterator())


def _with_truth(images, truth):
    """(image, true translation) uint8 batches."""
    return [(batch, np.asarray(truth(batch), np.uint8)) for batch in images.as_numpy_iterator()]


def _page_rows(data, served, truth) -> list:
    from zoo.gan.inference import served_translator

    rows = []
    for direction, back, images in (("AtoB", "BtoA", data.test_a),
                                    ("BtoA", "AtoB", data.test_b)):
        batch = _first_images(images, PAGE_ROWS // 2)
        moved = served_translator(served[direction])(batch)
        returned = served_translator(served[back])(moved)
        known = truth[direction](batch) if truth[direction] is not None else \
            np.full_like(batch, 255)
        rows += [[batch[i], moved[i], np.asarray(known[i], np.uint8), returned[i]]
                 for i in range(len(batch))]
    return rows


def _description(args, config, all_rows, lines) -> str:
    from zoo.gan import reports

    title = f"**{args.data}**: CycleGAN at {config.image_size} px"
    facts = [f"{config.total_epochs} epochs ({config.epochs} + {config.decay_epochs} decaying), "
             f"{args.generator}, ngf {config.ngf}, identity weight {config.lambda_identity}"]
    if not all_rows:
        return "\n".join([title, ""] + [f"- {line}" for line in facts + lines]) + "\n"
    parts = [reports.description(f"{title}, {DIRECTION_NAMES[direction]}", rows, MODEL_ROW,
                                 facts=facts if index == 0 else (),
                                 model_lines=lines if index == len(all_rows) - 1 else (),
                                 against=["identity"])
             for index, (direction, rows) in enumerate(all_rows.items())]
    return "\n".join(parts)


if __name__ == "__main__":
    try:
        main()
    except zoo.ZooError as error:  # bad input: say what and how to fix it, no traceback
        sys.exit(f"cyclegan: error: {error}")
