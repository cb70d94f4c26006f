#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora into DIR/<target>/: small valid and nearly valid
inputs of every format, so the fuzzers start from real structure. usage: seeds.py DIR"""
import gzip
import io
import os
import struct
import subprocess
import sys
import tarfile

out = sys.argv[1]


def put(target, name, data):
    os.makedirs(os.path.join(out, target), exist_ok=True)
    with open(os.path.join(out, target, name), "wb") as f:
        f.write(data)


images = struct.pack(">IIII", 0x803, 2, 3, 3) + bytes(range(18))
labels = struct.pack(">II", 0x801, 2) + bytes([1, 7])
put("fuzz_idx", "images", b"\x00" + images)
put("fuzz_idx", "images.gz", b"\x00" + gzip.compress(images))
put("fuzz_idx", "labels", b"\x01" + labels)
put("fuzz_idx", "labels.gz", b"\x01" + gzip.compress(labels))
put("fuzz_idx", "short", b"\x00" + images[:10])


def tar(members, mode="w:gz"):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as t:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


rec10 = bytes([3]) + bytes(range(256)) * 12
rec100 = bytes([2, 11]) + bytes(range(256)) * 12
c10 = [("cifar-10-batches-bin/data_batch_%d.bin" % i, rec10 * 2) for i in range(1, 6)]
c10.append(("cifar-10-batches-bin/test_batch.bin", rec10))
put("fuzz_cifar", "cifar10.tar.gz", tar(c10))
put("fuzz_cifar", "cifar10.tar", tar(c10, "w"))
put("fuzz_cifar", "cifar100.tar.gz", tar([("cifar-100-binary/train.bin", rec100 * 2),
                                          ("cifar-100-binary/test.bin", rec100)]))
ppm = b"P6 40 30 255\n" + bytes((i * 7) % 256 for i in range(40 * 30 * 3))
for q in (50, 95):
    jpg = subprocess.run(["cjpeg", "-quality", str(q)], input=ppm, capture_output=True, check=True).stdout
    put("fuzz_jpeg", "rgb%d" % q, bytes([200, 150, 10, 30, 24, 1]) + jpg)
pgm = b"P5 33 17 255\n" + bytes((i * 3) % 256 for i in range(33 * 17))
put("fuzz_jpeg", "grey", bytes([255, 255, 0, 0, 7, 0]) + subprocess.run(["cjpeg"], input=pgm, capture_output=True, check=True).stdout)
gt = (b'{"images":[{"id":1},{"id":2}],"categories":[{"id":3},{"id":4}],"annotations":['
      b'{"id":1,"image_id":1,"category_id":3,"bbox":[0,0,40,40],"area":1600,"iscrowd":0},'
      b'{"id":2,"image_id":2,"category_id":4,"bbox":[5,5,100,90],"area":8000,"iscrowd":1}]}')
put("fuzz_coco", "gt", b"\x00" + gt)
put("fuzz_coco", "results", b"\x01" + b'[{"image_id":1,"category_id":3,"bbox":[2,1,38,41],"score":0.8},'
    b'{"image_id":2,"category_id":3,"bbox":[10,10,50,50],"score":0.8},{"image_id":1,"category_id":9,"bbox":[0,0,1,1],"score":1}]')
import zlib


def png(w, h, color_type, rows):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
    raw = b"".join(b"\x00" + r for r in rows)
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, color_type, 0, 0, 0))
    if color_type == 3:
        out += chunk(b"PLTE", bytes(range(256)) * 3)
    return out + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


put("fuzz_png", "palette", png(5, 4, 3, [bytes([0, 1, 2, 255, 20])] * 4))
put("fuzz_png", "grey", png(3, 2, 0, [bytes([3, 4, 5]), bytes([255, 0, 1])]))
put("fuzz_png", "rgb", png(2, 2, 2, [bytes(6)] * 2))
put("fuzz_catalog", "good", b"# a comment\nset a.bin http://127.0.0.1/a.bin 10 "
    + b"0" * 32 + b" -\nset b.bin file:///tmp/b - - " + b"a" * 64 + b"\n")
put("fuzz_catalog", "bad", b"set a/b http://x 1 - -\n")
put("fuzz_detset", "png", b'{"images":[{"id":1,"file_name":"a.png","height":16,"width":16},{"id":2,"file_name":"a.png"}],'
    b'"categories":[{"id":3},{"id":4}],"annotations":['
    b'{"id":1,"image_id":1,"category_id":3,"bbox":[2,3,8,9],"area":72,"iscrowd":0},'
    b'{"id":2,"image_id":1,"category_id":4,"bbox":[-4,10,30,9],"area":270,"iscrowd":0},'
    b'{"id":3,"image_id":2,"category_id":4,"bbox":[0,0,16,16],"area":256,"iscrowd":1},'
    b'{"id":4,"image_id":2,"category_id":3,"bbox":[40,40,3,3],"area":9,"iscrowd":0}]}')
put("fuzz_detset", "jpeg", b'{"images":[{"id":7,"file_name":"b.jpg","height":20,"width":24},'
    b'{"id":9,"file_name":"b.jpg","height":20,"width":24}],"categories":[{"id":1}],"annotations":['
    b'{"id":1,"image_id":7,"category_id":1,"bbox":[1,1,20,15],"area":300,"iscrowd":0},'
    b'{"id":2,"image_id":9,"category_id":1,"bbox":[20,0,4,20],"area":80,"iscrowd":0}]}')
