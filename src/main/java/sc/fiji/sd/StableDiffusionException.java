package sc.fiji.sd;

/**
 * A problem the user can fix (missing model folder, wrong image size, unknown sampler…).
 * <p>
 * The message is shown as is by every front end, so it says what is wrong and what to do, in the user's words.
 * Front ends show other exceptions as internal errors with their stack trace.
 */
public class StableDiffusionException extends RuntimeException {

	public StableDiffusionException(String message) {
		super(message);
	}

	public StableDiffusionException(String message, Throwable cause) {
		super(message, cause);
	}
}
