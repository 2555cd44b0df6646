"""DCI (Digital Convergence Initiative) social-registry messages, without Django.

The same envelopes are built and checked on both sides: our registry serves the API
(`jiuzhu.api.dci`), and other departments' systems — or our own exchange scripts —
talk to it with `jiuzhu.dci.client`. Nothing here imports Django, so the client runs
wherever httpx and cryptography do.
"""
