"""``python -m soapgw``: the ``soapgw`` command (how ``soapgw serve`` starts its helpers)."""
import sys

from soapgw.cli import main

sys.exit(main())
