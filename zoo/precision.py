"""What `mixed_precision` means, in every family's config and recipe.

    "off"       float32 throughout (also False)
    "float16"   Keras's mixed_float16 policy, with loss scaling (also True):
                fast on GPUs with float16 tensor cores, slow on CPUs
    "bfloat16"  Keras's mixed_bfloat16 policy: float32's exponent range, so no
                loss scaling; fast on CPUs with AMX or AVX512_BF16, and on
                recent GPUs
    "auto"      the fastest measured for the model on this machine:
                "float16" when a GPU is present; "bfloat16" on a CPU that
                computes it in AMX with oneDNN on, for the families measured
                faster there (the GANs: plain convolutions); else "off"

Variables stay float32 under every policy. TensorFlow is not imported here,
so configs and command lines check the setting before it loads;
zoo.training.distribute turns it into the policy a model is built under.

Why "auto" keeps classifiers in float32 on AMX CPUs: measured on an Intel
Xeon (Sapphire Rapids, 2 cores, oneDNN on), training steps at 96 px, batch 32,
ran 1.18x as fast in bfloat16 for ResNet50 but 0.62x for MobileNetV3-small,
whose depthwise convolutions have no fast bfloat16 kernel. A Pix2Pix step at
128 px ran 1.13x as fast; with oneDNN off, bfloat16 ran at 0.19x (no AMX
kernels), and AVX512_BF16 without AMX is not measured, so it stays off.
"""

from __future__ import annotations

from pathlib import Path

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


def cpu_flags(cpuinfo: str | Path = "/proc/cpuinfo") -> set[str]:
    """The feature flags the CPU reports (Linux); empty where there is no cpuinfo."""
    try:
        text = Path(cpuinfo).read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.partition(":")[2].split())
    return set()


def cpu_computes_bfloat16(flags: set[str] | None = None) -> bool:
    """Whether the CPU has AMX's bfloat16 tiles, which oneDNN uses."""
    return "amx_bf16" in (cpu_flags() if flags is None else flags)
