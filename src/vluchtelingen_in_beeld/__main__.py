from vluchtelingen_in_beeld.cli import main

main()
