# Replaces python-olm 3.2.16's olm_build.py when python-olm is built against caudata-libolm:
# the same cffi module (_libolm), the same C source (python-olm's #includes) and the same
# declarations (python-olm's own include/olm/*.h), compiled against the headers and
# libolm.so of the caudata-libolm installed in OLM_PREFIX instead of the libolm sources the
# package bundles (which upstream's script builds and links statically).
import os

from cffi import FFI

prefix = os.environ["OLM_PREFIX"]
PATH = os.path.dirname(__file__)

ffibuilder = FFI()
ffibuilder.set_source(
    "_libolm",
    r"""
        #include <olm/olm.h>
        #include <olm/inbound_group_session.h>
        #include <olm/outbound_group_session.h>
        #include <olm/pk.h>
        #include <olm/sas.h>
    """,
    libraries=["olm"],
    include_dirs=[os.path.join(prefix, "include")],
    library_dirs=[os.path.join(prefix, "lib")],
    runtime_library_dirs=[os.path.join(prefix, "lib")],
    source_extension=".cpp",
)

for header in ("error.h", "olm.h", "pk.h", "sas.h"):
    with open(os.path.join(PATH, "include", "olm", header)) as f:
        ffibuilder.cdef(f.read(), override=True)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
