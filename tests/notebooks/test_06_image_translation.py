"""notebooks/06_image_translation.ipynb: Pix2Pix and CycleGAN, trained briefly, quick settings."""

import math

import pytest

# The papers' U-Net (256 px, 64 filters): trainable parameters, as the markdown quotes it.
PAPER_UNET_PARAMS = 54_413_955


@pytest.mark.slow
def test_pix2pix_beats_the_sketch_and_cyclegans_round_trip_comes_back(run_notebook):
    results = run_notebook("06_image_translation.ipynb")
    pix2pix, cyclegan = results["pix2pix"], results["cyclegan"]
    for rows in (pix2pix, cyclegan):
        for name, scores in rows.items():
            assert all(math.isfinite(scores[key]) for key in ("l1", "psnr", "ssim")), name

    # Pix2Pix changes the sketch, and is far closer to the photo than the sketch is.
    assert results["pix2pix_output_differs_from_input"]
    model, sketch = pix2pix["pix2pix"], pix2pix["input (the sketch)"]
    assert model["images"] == sketch["images"] > 0
    assert model["l1"] < 0.8 * sketch["l1"], (model, sketch)
    assert model["psnr"] > sketch["psnr"] + 3, (model, sketch)

    # A 48x80 image (not a power of two) comes back at its own size from both generators.
    sizes = results["odd_size"]
    assert sizes["input"] == [48, 80, 3]
    assert sizes["pix2pix_output"] == sizes["cyclegan_output"] == sizes["input"]

    # The cycle loss works: F(G(a)) ends closer to a than G(a) went from it.
    assert results["cyclegan_cycle_l1_a"] < 0.95 * results["cyclegan_translation_l1_a"], results
    assert cyclegan["A -> B: CycleGAN G"]["images"] == cyclegan["A -> B: identity"]["images"] > 0

    # The markdown's "about 50 times smaller than the paper's U-Net" holds.
    assert PAPER_UNET_PARAMS / results["params"]["pix2pix"]["generator (U-Net)"] > 40
