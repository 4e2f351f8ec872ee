"""A video over 4 GiB from a standard PTP/IP camera through `camrelay import` (issue 16, item 3).

The Python camera serves one object of 4 GiB + 1 MiB generated on the fly (1 MiB blocks, each
stamped with its index) whose ObjectInfo says ObjectCompressedSize 0xFFFFFFFF; it offers the MTP
ObjectSize property (GetObjectPropValue 0xDC04) and GetPartialObject64 (0x95C1), and cuts the
connection once in the middle of the first chunk past 4 GiB. camrelay must take the 64-bit size,
resume past 4 GiB with a 64-bit offset, and deliver a file of the exact size with every block in
its place. It takes about 2 minutes here (4 GiB spooled, hashed and delivered), so it runs only
when CAMRELAY_TEST_BIG=1; it is always skipped under the ASan build (binary path containing
"asan" or ASAN_OPTIONS set: 4 GiB through instrumented code is too slow)."""

import os
import struct
import unittest

import camrelay_testlib as t
import test_ptpip_hostile as hostile
from test_ptpip_hostile import HostileCamera, device_info, object_info, packet

BLOCK = 1 << 20
SIZE = (4 << 30) + BLOCK
GIB4 = 1 << 32
BASE = bytes((i * 31) % 251 for i in range(BLOCK))


def content(offset, length):
    """Bytes [offset, offset + length) of the synthetic object."""
    out = bytearray()
    end = min(offset + length, SIZE)
    while offset < end:
        block, inside = divmod(offset, BLOCK)
        b = struct.pack("<Q", block) + BASE[8:]
        take = min(end - offset, BLOCK - inside)
        out += b[inside:inside + take]
        offset += take
    return bytes(out)


class BigCamera(HostileCamera):

    def __init__(self):
        super().__init__("big", objects=1)
        self.partial64 = []  # offsets asked by GetPartialObject64
        self.other_reads = 0  # GetObject / GetPartialObject (must stay 0)
        self.cut = False

    def answer(self, sock, code, tid, params):
        if code == 0x1001:
            ops = [0x1001, 0x1002, 0x1003, 0x1004, 0x1007, 0x1008, 0x1009, 0x101B, 0x9803,
                   0x95C1]
            return self.data(sock, tid, device_info(ops))
        if code == 0x1008:
            return self.data(sock, tid, object_info("MVI_0001.MOV", 0xFFFFFFFF))
        if code == 0x9803:
            if params[:2] != [1, 0xDC04]:
                return sock.sendall(packet(7, struct.pack("<HI", 0x2009, tid)))
            return self.data(sock, tid, struct.pack("<Q", SIZE))
        if code in (0x1009, 0x101B):
            self.other_reads += 1
            return sock.sendall(packet(7, struct.pack("<HI", 0x2002, tid)))
        if code == 0x95C1:
            _h, lo, hi, length = params[:4]
            offset = lo | (hi << 32)
            self.partial64.append(offset)
            chunk = content(offset, length)
            sock.sendall(packet(9, struct.pack("<IQ", tid, len(chunk))))
            if offset >= GIB4 and not self.cut:
                self.cut = True
                sock.sendall(packet(10, struct.pack("<I", tid) + chunk[:len(chunk) // 2]))
                raise ConnectionError("cut")
            sock.sendall(packet(12, struct.pack("<I", tid) + chunk))
            return self.ok(sock, tid, [len(chunk)])
        return super().answer(sock, code, tid, params)


class PtpipBig(t.CamrelayTestCase):

    def config(self, port, extra="", kind="ptpip"):
        path = hostile.PtpipHostile.config(self, port, extra, kind)
        with open(path) as f:
            text = f.read().replace("chunk_size = 16384", "chunk_size = 1048576")
        with open(path, "w") as f:
            f.write(text)
        return path

    run_import = hostile.PtpipHostile.run_import

    def test_video_over_4_gib_with_object_size_and_resume_past_4_gib(self):
        if "asan" in t.BIN or os.environ.get("ASAN_OPTIONS"):
            self.skipTest("4 GiB through the ASan build is too slow")
        if os.environ.get("CAMRELAY_TEST_BIG") != "1":
            self.skipTest("about 2 minutes: set CAMRELAY_TEST_BIG=1 to run it")
        cam = BigCamera()
        rc, _out, err, _peak = self.run_import(cam, limit=300)
        self.assertEqual(rc, 0, err)
        self.assertTrue(cam.cut)
        self.assertEqual(cam.other_reads, 0)
        # Resumed past 4 GiB, at an offset only 64 bits hold, not from the start.
        resumed = [o for o in cam.partial64 if o > GIB4 and o % BLOCK]
        self.assertTrue(resumed, cam.partial64[-5:])
        self.assertEqual(cam.partial64.count(0), 1)
        files = []
        for dirpath, _dirs, names in os.walk(self.dest):
            files += [os.path.join(dirpath, n) for n in names]
        self.assertEqual(len(files), 1, files)
        path = files[0]
        self.assertEqual(os.path.getsize(path), SIZE)
        with open(path, "rb") as f:
            for block in range(SIZE // BLOCK):  # every block in its place
                f.seek(block * BLOCK)
                self.assertEqual(struct.unpack("<Q", f.read(8))[0], block)
            for offset in (0, GIB4 - BLOCK, GIB4, SIZE - BLOCK):  # whole blocks around 4 GiB
                f.seek(offset)
                self.assertEqual(f.read(BLOCK), content(offset, BLOCK), offset)


if __name__ == "__main__":
    unittest.main()
