"""Hand-made HDF5 files whose structures point at each other over and over: each is small,
and a reader that follows the pointers naively allocates gigabytes or recurses without
bound. Superblock v2, version-2 object headers, with valid checksums (so that a reader
gets past them to the structures under test)."""
import struct

U = 0xFFFFFFFFFFFFFFFF


def u8(v): return struct.pack("<B", v)
def u16(v): return struct.pack("<H", v)
def u32(v): return struct.pack("<I", v)
def u64(v): return struct.pack("<Q", v)


def lookup3(data):
    """Jenkins' hashlittle(data, len, 0): HDF5's metadata checksum."""
    m = 0xFFFFFFFF
    rot = lambda x, k: ((x << k) | (x >> (32 - k))) & m
    a = b = c = (0xDEADBEEF + len(data)) & m
    words = lambda k: [int.from_bytes(k[i:i + 4].ljust(4, b"\0"), "little") for i in (0, 4, 8)]
    k = data
    while len(k) > 12:
        w = words(k)
        a, b, c = (a + w[0]) & m, (b + w[1]) & m, (c + w[2]) & m
        a = ((a - c) & m) ^ rot(c, 4); c = (c + b) & m
        b = ((b - a) & m) ^ rot(a, 6); a = (a + c) & m
        c = ((c - b) & m) ^ rot(b, 8); b = (b + a) & m
        a = ((a - c) & m) ^ rot(c, 16); c = (c + b) & m
        b = ((b - a) & m) ^ rot(a, 19); a = (a + c) & m
        c = ((c - b) & m) ^ rot(b, 4); b = (b + a) & m
        k = k[12:]
    if not k:
        return c
    w = words(k)
    a, b, c = (a + w[0]) & m, (b + w[1]) & m, (c + w[2]) & m
    c = ((c ^ b) - rot(b, 14)) & m
    a = ((a ^ c) - rot(c, 11)) & m
    b = ((b ^ a) - rot(a, 25)) & m
    c = ((c ^ b) - rot(b, 16)) & m
    a = ((a ^ c) - rot(c, 4)) & m
    b = ((b ^ a) - rot(a, 14)) & m
    return ((c ^ b) - rot(b, 24)) & m


def summed(body):
    return body + u32(lookup3(body))


def superblock(root, eof):
    return summed(b"\x89HDF\r\n\x1a\n" + u8(2) + u8(8) + u8(8) + u8(0) + u64(0) + u64(U)
                  + u64(eof) + u64(root))


def msg(kind, body, order=0):
    return u8(kind) + u16(len(body)) + u8(0) + u16(order) + body


def ohdr(messages):
    body = b"".join(messages)
    return summed(b"OHDR" + u8(2) + u8(0x06) + u32(len(body)) + body)  # order tracked


def link_info(heap=U, names=U):
    return u8(0) + u8(0) + u64(heap) + u64(names)


def hard_link(name, addr):
    n = name.encode()
    return u8(1) + u8(0) + u8(len(n)) + n + u64(addr)


def t_int(size=4):
    return u8(0x10) + u8(0x08) + b"\0\0" + u32(size) + u16(0) + u16(size * 8)


def scalar():
    return u8(2) + u8(0) + u8(0) + u8(0)


def space(dims):
    return u8(2) + u8(len(dims)) + u8(0) + u8(1) + b"".join(u64(d) for d in dims)


def attr(name, typ, sp, data):
    n = name.encode() + b"\0"
    return u8(3) + u8(0) + u16(len(n)) + u16(len(typ)) + u16(len(sp)) + u8(0) + n + typ + sp + data


def dataset_messages(layout):
    return [msg(0x01, scalar()), msg(0x03, t_int()), msg(0x05, u8(3) + u8(0x09)), msg(0x08, layout)]


def repeated_continuations(path, links=16, repeats=998):
    """One dataset linked `links` times, its header continued `repeats` times into one 56 KB
    block."""
    big = attr("a", t_int(8), space([7000]), b"\x01" * 56000)
    block = summed(b"OCHK" + msg(0x0C, big, order=1))
    root = lambda d: ohdr([msg(0x02, link_info())]
                          + [msg(0x06, hard_link(f"v{i}", d)) for i in range(links)])
    d_addr = 48 + len(root(0))
    ds = lambda c: ohdr(dataset_messages(u8(3) + u8(1) + u64(U) + u64(4))
                        + [msg(0x10, u64(c) + u64(len(block)))] * repeats)
    c_addr = d_addr + len(ds(0))
    data = superblock(48, c_addr + len(block)) + root(d_addr) + ds(c_addr) + block
    open(path, "wb").write(data)


def self_continuing(path):
    """A header whose continuation block continues into itself."""
    root = lambda d: ohdr([msg(0x02, link_info()), msg(0x06, hard_link("v", d))])
    d_addr = 48 + len(root(0))
    ds = lambda b, n: ohdr(dataset_messages(u8(3) + u8(1) + u64(U) + u64(4))
                           + [msg(0x10, u64(b) + u64(n))])
    b_addr = d_addr + len(ds(0, 0))
    body = lambda n: msg(0x10, u64(b_addr) + u64(n))
    blen = 4 + len(body(0)) + 4
    block = summed(b"OCHK" + body(blen))
    data = superblock(48, b_addr + len(block)) + root(d_addr) + ds(b_addr, blen) + block
    open(path, "wb").write(data)


def nested_vlen(path, depth=4000):
    """An attribute whose type is a variable-length sequence of one of ... `depth` deep."""
    t = t_int()
    for _ in range(depth):
        t = u8(0x19) + bytes([0, 0, 0]) + u32(16) + t
    root = ohdr([msg(0x02, link_info()), msg(0x0C, attr("deep", t, scalar(), b"\0" * 16))])
    open(path, "wb").write(superblock(48, 48 + len(root)) + root)


def shared_btree_leaf(path, children=2000, entries=4000):
    """A chunked dataset whose chunk B-tree root points `children` times at one leaf."""
    key = lambda off: u32(4) + u32(0) + u64(off) + u64(0)
    leaf_addr = 4096
    leaf = (b"TREE" + u8(1) + u8(0) + u16(entries) + u64(U) + u64(U)
            + b"".join(key(i) + u64(64) for i in range(entries)) + key(entries))
    node_addr = leaf_addr + len(leaf)
    node = (b"TREE" + u8(1) + u8(1) + u16(children) + u64(U) + u64(U)
            + b"".join(key(i * entries) + u64(leaf_addr) for i in range(children))
            + key(children * entries))
    n = children * entries
    layout = u8(3) + u8(2) + u8(2) + u64(node_addr) + u32(1) + u32(4)
    # a coordinate variable (its own dimension scale), so the reader gets to its chunks
    scale = attr("CLASS", u8(0x13) + b"\0\0\0" + u32(16), scalar(), b"DIMENSION_SCALE\0")
    ds = ohdr([msg(0x01, u8(2) + u8(1) + u8(0) + u8(1) + u64(n)), msg(0x03, t_int()),
               msg(0x05, u8(3) + u8(0x09)), msg(0x08, layout), msg(0x0C, scale)])
    root = lambda d: ohdr([msg(0x02, link_info()), msg(0x06, hard_link("v", d))])
    d_addr = 48 + len(root(0))
    head = superblock(48, node_addr + len(node)) + root(d_addr) + ds
    assert len(head) <= leaf_addr
    data = head + b"\0" * (leaf_addr - len(head)) + leaf + node
    open(path, "wb").write(data)


def empty_named_groups(path, depth=3000):
    """A chain of groups linked under empty names: a path-based depth count never grows, and
    a recursive reader overflows its stack."""
    group = lambda child: ohdr([msg(0x02, link_info()), msg(0x06, hard_link("", child))])
    size = len(group(0))
    addrs = [48 + i * size for i in range(depth)]
    body = b"".join(group(addrs[i + 1]) for i in range(depth - 1))
    last = ohdr([msg(0x02, link_info())])
    open(path, "wb").write(superblock(48, addrs[-1] + len(last)) + body + last)


def global_heap_copies(path, n=1000, size=1 << 20):
    """A string attribute of `n` elements that all name one `size`-byte global heap object."""
    vlen_string = u8(0x19) + bytes([0x01, 0, 0]) + u32(16) + u8(0x13) + b"\0\0\0" + u32(1)
    root = lambda gcol: ohdr([msg(0x02, link_info()), msg(0x0C, attr(
        "s", vlen_string, space([n]), (u32(size) + u64(gcol) + u32(1)) * n))])
    gcol = 48 + len(root(0))
    heap_object = u16(1) + u16(1) + u32(0) + u64(size) + b"x" * size
    collection = b"GCOL" + u8(1) + b"\0\0\0" + u64(16 + len(heap_object)) + heap_object
    open(path, "wb").write(superblock(48, gcol + len(collection)) + root(gcol) + collection)
