package sc.fiji.sd.control;

/** What every preprocessor here shares: its name and its one-line description. */
abstract class NamedPreprocessor implements ControlPreprocessor {

	private final String name, description;

	NamedPreprocessor(String name, String description) {
		this.name = name;
		this.description = description;
	}

	@Override
	public final String name() {
		return name;
	}

	@Override
	public final String description() {
		return description;
	}
}
