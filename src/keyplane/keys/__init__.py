"""The key core: formats, sealing, signature schemes, the verification pipeline, policies and audit.

Plain Python: nothing here imports the web framework, the exchange or the client side.
"""
