"""The DCI social-registry API over our registry (the server side of `jiuzhu.dci`)."""
