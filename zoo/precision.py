"""What `mixed_precision` means, in every family's config and recipe.

    "off"       float32 throughout (also False)
    "float16"   Keras's mixed_float16 policy, with loss scaling (also True):
                fast on GPUs with float16 tensor cores, slow on CPUs
    "bfloat16"  Keras's mixed_bfloat16 policy: float32's exponent range, so no
                loss scaling; fast on CPUs with AMX or AVX512_BF16, and on
                recent GPUs
    "auto"      "float16" when a GPU is present, else "off"

Variables stay float32 under every policy. TensorFlow is not imported here,
so configs and command lines check the setting before it loads;
zoo.training.distribute turns it into the policy a model is built under.
"""

from __future__ import annotations

MIXED_PRECISION = ("auto", "off", "float16", "bfloat16")


def check_mixed_precision(setting) -> str:
    """`setting` as one of MIXED_PRECISION; True and False are "float16" and "off".

    Raises:
        ValueError: anything else, naming the choices.
    """
    if setting is True or setting is False:
        return "float16" if setting else "off"
    if setting not in MIXED_PRECISION:
        raise ValueError(f"mixed_precision must be one of {', '.join(MIXED_PRECISION)} "
                         f"(or True/False). Received: mixed_precision={setting!r}")
    return setting
