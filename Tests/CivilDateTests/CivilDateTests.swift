import CivilDate
import Testing

@Suite struct CivilDateTests {
    @Test(arguments: [
        (Int64(1970), Int64(1), Int64(1), Int64(0)),
        (2000, 3, 1, 11_017),
        (2024, 2, 29, 19_782),
        (1969, 12, 31, -1),
        (0, 1, 1, -719_528),
        (-4713, 11, 24, -2_440_588),
    ])
    func daysAndBack(year: Int64, month: Int64, day: Int64, days: Int64) {
        #expect(CivilDate.days(year: year, month: month, day: day) == days)
        #expect(CivilDate.date(days: days) == (year, month, day))
    }

    @Test func everyDayOfFourHundredYearsRoundTrips() {
        for days in Int64(-146_097)...Int64(146_097) {
            let (year, month, day) = CivilDate.date(days: days)
            #expect(CivilDate.days(year: year, month: month, day: day) == days)
        }
    }
}
