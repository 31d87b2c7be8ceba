"""What every domain's router shares: request dependencies (``deps``) and input bounds
(``inputs``). Domains import this package; ``cloud.web`` assembles the domains into the app."""
