from skillpm.cli import main

main()
