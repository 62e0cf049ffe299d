from skillpm.console import main

main()
