from vluchtelingen_in_beeld.cli.commands import main

main()
