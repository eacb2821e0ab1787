package sc.fiji.sd.imagej;

/** Lets tests in other packages use the package-private {@link FakeGenerator}. */
public final class FakeGeneratorAccess {

	private FakeGeneratorAccess() {}

	public static ImageGenerator create() {
		return new FakeGenerator();
	}
}
