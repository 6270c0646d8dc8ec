"""Files in and out, checked before any work: a failure never leaves a half-written output (outputs go to a
temporary file in the same folder, renamed into place only once complete: a full disk or a killed process leaves
the old file intact), an input is never opened unless it is a regular file (a FIFO or a device would block or
stream forever), and no output may replace an input or a file its owner made read-only. NumPy- and Keras-free, so
the command line checks paths before it loads anything."""
import contextlib
import os
import shutil
import stat
import tempfile
from pathlib import Path

#: The longest file name (bytes) of the usual file systems; temporary names are kept within it.
NAME_MAX = 255


def temp_prefix(name):
    """``".<name>."``, the start of a temporary name beside ``name``, with ``name`` cut (at a character) so that
    the prefix, ``tempfile``'s 8 random characters and a suffix of up to 30 bytes stay within ``NAME_MAX``."""
    raw = os.fsencode(name)[:NAME_MAX - 40]
    return "." + raw.decode("utf-8", "ignore") + "."


def _kind(mode):
    return ("a folder" if stat.S_ISDIR(mode) else "a FIFO (named pipe)" if stat.S_ISFIFO(mode) else
            "a socket" if stat.S_ISSOCK(mode) else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else
            "not a regular file")


def check_input(path, folder_ok=False):
    """``path`` if it is a regular file (or, ``folder_ok``, a folder); FileNotFoundError if it does not exist,
    ValueError naming what it is otherwise (a FIFO, a device, a socket: opening one can block forever)."""
    st = os.stat(path)
    if stat.S_ISREG(st.st_mode) or (folder_ok and stat.S_ISDIR(st.st_mode)):
        return path
    raise ValueError(f"{os.fspath(path)} is {_kind(st.st_mode)}, not a regular file"
                     + (" or a folder" if folder_ok else ""))


def read_only(path):
    """Whether an existing ``path`` is read-only: this user may not write it, or it has no write bit at all (root
    could write it, but its owner marked it read-only, and zoo does not override that)."""
    st = os.stat(path)
    return not os.access(path, os.W_OK) or not st.st_mode & 0o222


def check_output(path):
    """Refuse, before any work, an output name that is empty, names a FIFO, device or socket, or an existing
    read-only file (replacing it through a rename would defeat the permission, so it is refused as ``cp``
    refuses it). Returns ``path``."""
    if not os.fspath(path):
        raise ValueError("the output name is empty")
    if os.path.exists(path):
        st = os.stat(path)
        if not (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode)):
            raise ValueError(f"{os.fspath(path)} is {_kind(st.st_mode)}; refusing to write an output there")
        if stat.S_ISREG(st.st_mode) and read_only(path):
            raise PermissionError(13, "a read-only file; refusing to replace it (make it writable or choose "
                                      "another name)", os.fspath(path))
    return path


def refuse_inputs(outputs, inputs, folders=()):
    """ValueError when an output would replace one of the ``inputs`` (the same file, whatever the spelling or
    link), or lie inside one of ``folders`` (folders a command reads from as it goes, e.g. a mask folder)."""
    ids = {}
    for p in inputs:
        if p is not None and os.path.exists(p):
            st = os.stat(p)
            ids[(st.st_dev, st.st_ino)] = os.fspath(p)
    roots = [os.path.realpath(f) for f in folders]
    for out in outputs:
        if os.path.exists(out):
            st = os.stat(out)
            if (st.st_dev, st.st_ino) in ids:
                raise ValueError(f"-o {os.fspath(out)} is the input file {ids[st.st_dev, st.st_ino]}; refusing to "
                                 f"overwrite it")
        where = os.path.realpath(out)
        for folder, root in zip(folders, roots):
            if where == root or where.startswith(root.rstrip(os.sep) + os.sep):
                raise ValueError(f"-o {os.fspath(out)} lies in the input folder {os.fspath(folder)}; choose an "
                                 f"output outside it")


#: Temporary files and folders being written now; ``remove_temporaries`` deletes them (the command line's
#: SIGTERM / Ctrl-C handler, which cannot rely on an exception getting through native code to the cleanup).
_TEMPORARIES = set()


@contextlib.contextmanager
def temporary(path):
    """Register ``path`` (a temporary file or folder) for ``remove_temporaries`` while the block runs."""
    _TEMPORARIES.add(os.fspath(path))
    try:
        yield path
    finally:
        _TEMPORARIES.discard(os.fspath(path))


def remove_temporaries():
    """Delete every temporary file and folder registered by ``temporary`` (on a signal, before exiting)."""
    for path in list(_TEMPORARIES):
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        elif os.path.lexists(path):
            os.unlink(path)


def atomic_write(dest, write, suffix=".part"):
    """Call ``write(tmp_path)`` on a temporary file next to ``dest`` (folders created), then rename it to
    ``dest``; on any failure the temporary file is removed and ``dest`` is left as it was; a read-only ``dest``
    is refused (``check_output``). Returns ``dest`` (a ``Path``). ``suffix`` ends the temporary name (writers
    that choose a format by extension need it)."""
    dest = Path(dest)
    check_output(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=temp_prefix(dest.name), suffix=suffix)
    os.close(fd)
    with temporary(tmp):
        try:
            write(Path(tmp))
            # mkstemp makes the file private (0600): give it the mode the file had, or a new file's usual mode
            os.chmod(tmp, dest.stat().st_mode & 0o777 if dest.exists() else 0o666 & ~_umask())
            os.replace(tmp, dest)
        except OSError as e:
            Path(tmp).unlink(missing_ok=True)
            if e.filename is None or str(e.filename) == tmp:  # name the file the caller asked for
                raise OSError(e.errno, e.strerror or str(e), str(dest)) from e
            raise
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return dest


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask
