#!/usr/bin/env python3
"""AutoAugment's operations as Pillow does them, for tests/test_autoaugment.c: random images
(one and three channels) through each operation at the policy's values, written to argv[1] as
records: op, value (float32), channels, height, width (little-endian int32 but the value), the
input planes, then Pillow's output planes. The operation numbers are datasets/autoaugment.h's."""
import random
import struct
import sys

from PIL import Image, ImageEnhance, ImageOps

POSTERIZE, ROTATE, SOLARIZE, AUTOCONTRAST, EQUALIZE, COLOR, INVERT, CONTRAST, SHARPNESS, SHEAR_X = range(10)


def pillow(op, v, im):
    fill = 128 if im.mode == "L" else (128, 128, 128)
    if op == POSTERIZE: return ImageOps.posterize(im, int(v))
    if op == SOLARIZE: return ImageOps.solarize(im, v)
    if op == INVERT: return ImageOps.invert(im)
    if op == AUTOCONTRAST: return ImageOps.autocontrast(im)
    if op == EQUALIZE: return ImageOps.equalize(im)
    if op == COLOR: return ImageEnhance.Color(im).enhance(1 + v)
    if op == CONTRAST: return ImageEnhance.Contrast(im).enhance(1 + v)
    if op == SHARPNESS: return ImageEnhance.Sharpness(im).enhance(1 + v)
    if op == ROTATE: return im.rotate(v, resample=Image.NEAREST, fillcolor=fill)
    if op == SHEAR_X: return im.transform(im.size, Image.AFFINE, (1, v, 0, 0, 1, 0), resample=Image.NEAREST, fillcolor=fill)
    raise ValueError(op)


def planes(im, c):
    data = im.tobytes()  # interleaved
    return bytes(data[k::c][i] for k in range(c) for i in range(len(data) // c)) if c > 1 else data


def main():
    rnd = random.Random(1)
    cases = [(POSTERIZE, 4), (POSTERIZE, 5), (POSTERIZE, 6), (SOLARIZE, 255 * 4 / 9), (SOLARIZE, 255 / 9), (INVERT, 0),
             (AUTOCONTRAST, 0), (EQUALIZE, 0), (COLOR, 0.0), (COLOR, 0.4), (COLOR, -0.8), (CONTRAST, 0.8),
             (CONTRAST, -0.6), (SHARPNESS, 0.7), (SHARPNESS, -0.7), (ROTATE, 30), (ROTATE, -80 / 3), (ROTATE, 10),
             (SHEAR_X, 0.5 / 3), (SHEAR_X, -0.5 / 3)]
    with open(sys.argv[1], "wb") as out:
        for c in (1, 3):
            for op, v in cases:
                v = struct.unpack("<f", struct.pack("<f", v))[0]  # the value as the C side gets it
                for trial in range(3):
                    h, w = rnd.randint(3, 40), rnd.randint(3, 40)
                    lo, hi = (0, 255) if trial != 1 else (60, 120)  # a narrow range too
                    px = bytes(rnd.randint(lo, hi) for _ in range(h * w * c))
                    im = Image.frombytes("L" if c == 1 else "RGB", (w, h), px)
                    res = pillow(op, v, im)
                    out.write(struct.pack("<ifiii", op, v, c, h, w) + planes(im, c) + planes(res, c))


if __name__ == "__main__":
    main()
