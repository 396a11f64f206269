"""Phone pages of the volunteers app: the volunteer's home and QR check-in, the leader's
activity page and printable sign-in sheet."""
