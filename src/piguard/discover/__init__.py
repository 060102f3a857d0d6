"""PI discovery: recognizers find personal information in text; sources and reports build on them."""
