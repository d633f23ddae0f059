"""The service layer: the only place combining validation, signing, credentials and storage."""
