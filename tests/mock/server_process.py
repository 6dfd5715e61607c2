"""A test server run as a child process: started with --port 0, its port
read from the file it writes, its output kept in a log, stopped and cleaned
up by stop() or a with block. Shared by the mock Twingate (mockctl.py) and the
mock ConductorOne (tests/c1mock/c1mockctl.py). Only the standard library."""

import os
import shutil
import subprocess
import sys
import tempfile
import time

PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable


class ServerProcess:
    name = "server"          # for errors
    keep_env = None          # an environment variable that keeps the directory

    def __init__(self, start_timeout=30):
        self.start_timeout = start_timeout
        self.proc = None
        self.dir = None
        self._log = None

    def launch(self, prefix, argv_for):
        """Make the working directory, start argv_for(directory) with its
        output in <dir>/server.log; returns the directory."""
        self.dir = tempfile.mkdtemp(prefix=prefix)
        self.log_path = os.path.join(self.dir, "server.log")
        argv = argv_for(self.dir)
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(argv, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        return self.dir

    def wait_port(self, path):
        """The port the server wrote to path, once it has; stops the server
        and raises when it exits first or takes longer than start_timeout."""
        deadline = time.monotonic() + self.start_timeout
        while True:
            if os.path.exists(path):
                with open(path) as f:
                    text = f.read().strip()
                if text:
                    return int(text)
            if self.proc.poll() is not None:
                text = self.log_text()
                self.stop()
                raise RuntimeError("%s exited with %s:\n%s" % (self.name, self.proc.returncode, text))
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("%s did not start within %ss" % (self.name, self.start_timeout))
            time.sleep(0.02)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._log:
            self._log.close()
            self._log = None
        if self.dir and not (self.keep_env and os.environ.get(self.keep_env)):
            shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except (OSError, AttributeError):
            return ""
