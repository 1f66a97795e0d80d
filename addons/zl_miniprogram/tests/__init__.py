# This file is part of zhonglian-ticketing. See README.md for the licence.
