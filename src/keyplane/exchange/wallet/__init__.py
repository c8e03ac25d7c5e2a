"""The wallet: networks, deposit addresses from extended public keys, destination checks, the chain.

Plain domain code (no web framework, no exchange import): ``networks`` (what each asset can use),
``addresses`` and ``issuing`` (deposit addresses), ``destinations`` (withdrawal address decoding),
``states`` (Binance's deposit and withdrawal states), ``chain`` (the adapter and the simulation).
The exchange's sequencer credits deposits and sends withdrawals with these.
"""
