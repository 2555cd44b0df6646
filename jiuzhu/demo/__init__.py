"""The demo county (`jiuzhu demo`): a Da'an-like county with households, applications in
every state of the procedure and a user per role, so a newcomer can sign in and see a
living workplace.

Not a Django app: it only calls the apps' models and services. The registry is written
with bulk inserts (2,000 households in a second or two) and one summary audit entry;
every application is driven through the real casework services with back-dated dates,
so its deadlines, timeline and audit entries are what the procedure would have made.
"""

from jiuzhu.demo.load import DemoResult, already_loaded, load_demo
from jiuzhu.demo.staff import DemoAccount, demo_accounts, totp_code

__all__ = ["DemoAccount", "DemoResult", "already_loaded", "demo_accounts", "load_demo", "totp_code"]
