from webreader.cli import cli

cli(prog_name="webreader")
