#!/usr/bin/env python3
"""Load generator for bench/samsung.sh: N simulated Samsung cameras sending e-mails at once.

Each camera is a thread that sends MAILS e-mails one after the other, each one POST
/social/columbus/email (its own DUID per camera) shaped like an NX300's
(test/data/samsung/vectors/10_email_nodash_crlf): the same header set (Authorization without
space, two User-Agents, HTTP/1.0), the camera's boundary, `fileName=` parameters, PHOTOS `binary`
parts of PHOTO_MB MiB each, and the body ending in a delimiter without the closing `--`. Photo
bytes are generated on the fly from one 256 KiB buffer (a unique 64-byte header per photo, so no
two photos are equal): a request is never held in memory. Latency is connect-to-last-response-
byte. Prints one JSON line.
Stdlib only.
"""
import argparse
import json
import socket
import threading
import time

BOUNDARY = "---------------------------7d93b9550d4a"
CHUNK = 256 * 1024


def head(host, length, duid):
    return (
        "POST /social/columbus/email?DUID=" + duid + " HTTP/1.0\r\n"
        'Authorization:OAuth oauth_consumer_key="censored",oauth_nonce="censored",'
        'oauth_signature="censored=",oauth_signature_method="HmacSHA1",'
        'oauth_timestamp="9717886885",oauth_version="1.0"\r\n'
        "x-osp-version:v1\r\n"
        "User-Agent: sdeClient\r\n"
        "Content-Type: multipart/form-data; boundary=" + BOUNDARY + "\r\n"
        "Accept: image/gif, image/x-xbitmap, image/jpeg, image/pjpeg, "
        "application/x-shockwave-flash, application/vnd.ms-excel, "
        "application/vnd.ms-powerpoint, application/msword, */*\r\n"
        "Pragma: no-cache\r\n"
        "Accept-Language: ko\r\n"
        "User-Agent: Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1; SV1; Mozilla/4.0 "
        "(compatible; MSIE 6.0; Windows NT 5.1; SV1) ; .NET CLR 1.1.4322; InfoPath.2; "
        ".NET CLR 2.0.50727)\r\n"
        "Host: " + host + "\r\n"
        "Content-Length: " + str(length) + "\r\n\r\n").encode()


def message_part(sender, recipient):
    xml = ('<?xml version="1.0" encoding="UTF-8"?>\r\n<email><sender>' + sender +
           "</sender><receiverList><receiver>" + recipient +
           "</receiver> </receiverList><title><![CDATA[[Samsung Smart Camera] sent you files."
           "]]></title> <body><![CDATA[Sent from Samsung Camera.\r\nlanguage_sh100_utf8]]>"
           "</body></email>")
    return ("--" + BOUNDARY + "\r\n"
            'content-disposition: form-data; name="message"; fileName="sample.txt"\r\n'
            "content-Type: multipart/form-data;\r\n\r\n" + xml + "\r\n").encode()


def photo_head(name):
    return ("--" + BOUNDARY + "\r\n"
            'content-disposition: form-data; name="binary"; fileName="' + name + '"\r\n'
            "content-Type: image/jpeg;\r\n\r\n").encode()


def camera(idx, args, filler, results, start_gate):
    start_gate.wait()
    for mail in range(args.mails):
        msg = message_part(args.sender, args.recipient)
        size = args.photo_mb * 1024 * 1024
        names = ["SAM_%02d%02d%d.JPG" % (idx, mail % 100, p) for p in range(args.photos)]
        parts_len = sum(len(photo_head(n)) + size + 2 for n in names)
        tail = ("--" + BOUNDARY + "\r\n").encode()
        length = len(msg) + parts_len + len(tail)
        t0 = time.monotonic()
        status = 0
        try:
            s = socket.create_connection((args.host, args.port), timeout=120)
            s.sendall(head(args.host_header, length, "1234567890%02d" % idx) + msg)
            for p, name in enumerate(names):
                s.sendall(photo_head(name))
                unique = ("\xff\xd8camera=%d mail=%d photo=%d run=%s" %
                          (idx, mail, p, args.run_id)).encode("latin-1").ljust(64, b" ")
                s.sendall(unique)
                left = size - len(unique)
                while left > 0:
                    n = min(left, CHUNK)
                    s.sendall(filler[:n])
                    left -= n
                s.sendall(b"\r\n")
            s.sendall(tail)
            reply = b""
            while True:
                data = s.recv(65536)
                if not data:
                    break
                reply += data
                if len(reply) > 1 << 20:
                    break
            s.close()
            line = reply.split(b"\r\n", 1)[0].split()
            status = int(line[1]) if len(line) > 1 else 0
        except (OSError, ValueError) as e:
            status = -1
            results.append((time.monotonic() - t0, status, length, str(e)))
            continue
        results.append((time.monotonic() - t0, status, length, ""))


def percentile(values, q):
    values = sorted(values)
    if not values:
        return 0.0
    k = min(len(values) - 1, max(0, int(round(q * (len(values) - 1)))))
    return values[k]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--host-header", default="www.ospserver.net")
    ap.add_argument("--cameras", type=int, default=8)
    ap.add_argument("--mails", type=int, default=4, help="e-mails per camera")
    ap.add_argument("--photos", type=int, default=3)
    ap.add_argument("--photo-mb", type=int, default=6)
    ap.add_argument("--sender", default="Camera@samsungcamera.com")
    ap.add_argument("--recipient", default="store@bench.example")
    ap.add_argument("--run-id", default=str(time.time()))
    args = ap.parse_args()

    filler = memoryview(bytes((i * 37 + 11) & 0xFF for i in range(CHUNK)))
    results = []
    gate = threading.Barrier(args.cameras + 1)
    threads = [threading.Thread(target=camera, args=(i, args, filler, results, gate))
               for i in range(args.cameras)]
    for t in threads:
        t.start()
    gate.wait()
    t0 = time.monotonic()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    ok = [r for r in results if r[1] == 200]
    total_bytes = sum(r[2] for r in ok)
    lat = [r[0] for r in ok]
    print(json.dumps({
        "requests": len(results),
        "ok": len(ok),
        "errors": sorted({"%d %s" % (r[1], r[3]) for r in results if r[1] != 200})[:5],
        "seconds": round(elapsed, 3),
        "req_per_s": round(len(ok) / elapsed, 3) if elapsed else 0,
        "mb_per_s": round(total_bytes / elapsed / 1e6, 1) if elapsed else 0,
        "p50_s": round(percentile(lat, 0.50), 3),
        "p99_s": round(percentile(lat, 0.99), 3),
    }))


if __name__ == "__main__":
    main()
