# This file is part of zhonglian-ticketing. See README.md for the licence.
# Importing the module installs the redaction of ID numbers (and of failed
# login names) in every log record of the process, before any request.
from . import logs

logs.install()
