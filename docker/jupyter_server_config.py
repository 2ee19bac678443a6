# Server settings for the notebook image, read from the environment so that a container is configured
# with `-e`, never by editing its command. start-notebook.sh validates these variables before the
# server starts; this file also applies when JupyterHub starts `jupyterhub-singleuser` instead.
import importlib.util
import os
import shutil
from importlib.metadata import entry_points

c = get_config()  # noqa: F821 -- provided by the config loader

# Inside a container the server must answer on every interface: Docker's port publishing and the
# reverse proxy on the private network both arrive from outside the container's loopback. The empty
# address is every address of both families, so an IPv6 network reaches it too.
c.ServerApp.ip = ""
# A Host header naming the proxy's public name is expected here; the token guards access instead.
c.ServerApp.allow_remote_access = True
# Behind the proxy, client address and scheme come from X-Forwarded-* (logs, secure cookies).
c.ServerApp.trust_xheaders = True
c.ServerApp.open_browser = False
c.ServerApp.root_dir = os.environ.get("HOME", "/home/jupyter")
c.ServerApp.terminado_settings = {"shell_command": ["/bin/bash", "-l"]}

# A busy port must fail loudly: silently moving to the next one would leave the published port, the
# proxy and the health check all pointing at nothing.
c.ServerApp.port_retries = 0
if os.environ.get("JUPYTER_PORT"):
    c.ServerApp.port = int(os.environ["JUPYTER_PORT"])

# Left unset under JupyterHub, whose single-user server takes its prefix from the Hub.
if os.environ.get("JUPYTER_BASE_URL"):
    c.ServerApp.base_url = os.environ["JUPYTER_BASE_URL"]

# The token needs no line here: jupyter_server reads JUPYTER_TOKEN itself, and with neither a token
# nor a password it generates one and logs it.
if os.environ.get("JUPYTER_PASSWORD_HASH"):
    c.PasswordIdentityProvider.hashed_password = os.environ["JUPYTER_PASSWORD_HASH"]

# Never offer an export that cannot work: JupyterLab's "Save and Export Notebook As" lists what
# /api/nbconvert lists, and nbconvert leaves out the exporters disabled here. LaTeX, reST and AsciiDoc
# turn Markdown cells into their format with pandoc; PDF also needs xelatex (a course that installs
# TeX and pandoc gets them back, see docs/course.md); WebPDF drives a browser through playwright and
# the Qt ones need Qt WebEngine, none of which the image has.
#
# nbconvert also registers its bare TemplateExporter as "custom": it needs a template named on the
# command line, so from the menu or /nbconvert/custom/ it can only answer 500. A class's setting
# also reaches its subclasses, which every template-based exporter is, so each registered exporter
# is first enabled under its own class name and the bare class alone stays off (an exporter a course
# installs is registered the same way and stays offered).
for _entry in entry_points(group="nbconvert.exporters"):
    _class_name = _entry.attr.rpartition(".")[2]
    if _class_name != "TemplateExporter":
        c[_class_name].enabled = True
c.TemplateExporter.enabled = False

_missing_tools = {
    "pandoc": shutil.which("pandoc") is None,
    "xelatex": shutil.which("xelatex") is None,
    "playwright": importlib.util.find_spec("playwright") is None,
    "qtwebengine": importlib.util.find_spec("PyQt5") is None,
}
for _exporter, _needs in {
    "LatexExporter": ["pandoc"],
    "PDFExporter": ["pandoc", "xelatex"],
    "RSTExporter": ["pandoc"],
    "ASCIIDocExporter": ["pandoc"],
    "WebPDFExporter": ["playwright"],
    "QtPDFExporter": ["qtwebengine"],
    "QtPNGExporter": ["qtwebengine"],
}.items():
    if any(_missing_tools[tool] for tool in _needs):
        c[_exporter].enabled = False
