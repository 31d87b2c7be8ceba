"""The administrator's pages of accounts (staff and the audit log): ``pages``."""
