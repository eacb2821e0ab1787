package sc.fiji.sd.hub;

import sc.fiji.sd.StableDiffusionException;

/** A download problem the user can act on; the message says what happened and what to do. */
public class HubException extends StableDiffusionException {

	/** What kind of problem, for callers that react differently (tests, the CLI's exit code). */
	public enum Kind { OFFLINE, UNAUTHORIZED, GATED, NOT_FOUND, CHECKSUM, DISK_FULL, NOT_ONNX, CANCELLED, SERVER }

	private final Kind kind;

	public HubException(Kind kind, String message) {
		super(message);
		this.kind = kind;
	}

	public HubException(Kind kind, String message, Throwable cause) {
		super(message, cause);
		this.kind = kind;
	}

	public Kind kind() { return kind; }
}
