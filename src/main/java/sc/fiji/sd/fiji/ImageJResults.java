package sc.fiji.sd.fiji;

import org.scijava.thread.ThreadService;
import org.scijava.ui.UIService;

import ij.ImagePlus;
import ij.WindowManager;
import ij.macro.Interpreter;

/**
 * Makes a command's result an ImageJ 1.x image when no user interface will show it (Fiji {@code --headless}, a
 * bare SciJava context), so that a macro's {@code nImages}, {@code getTitle()}, {@code selectImage} and the next
 * {@code run(...)} see it.
 * <p>
 * With a user interface, Fiji's display layer shows the output (an ImageJ 1.x window, or a batch-mode image in
 * batch mode) and nothing is done here, so the image is never listed twice. Without one, the result is added to
 * the batch-mode images when batch mode is on (what {@code ImagePlus.show()} does in batch mode) and becomes the
 * current image of the thread that ran the command and of the threads that started it: the command runs on a
 * SciJava thread, and the macro's own thread is the one whose current image {@code getTitle()} reads.
 */
final class ImageJResults {

	/** How far up the chain of starting threads to go (the macro thread is the first parent in Fiji). */
	private static final int MAX_ANCESTORS = 8;

	private ImageJResults() {}

	static void register(ImagePlus result, UIService ui, ThreadService threads) {
		if (result == null || shownByTheUserInterface(ui)) return;
		if (Interpreter.isBatchMode() && !registered(result)) Interpreter.addBatchModeImage(result);
		Thread thread = Thread.currentThread();
		for (int i = 0; thread != null && i <= MAX_ANCESTORS; i++) {
			WindowManager.setTempCurrentImage(thread, result);
			Thread parent = threads == null ? null : threads.getParent(thread);
			thread = parent == thread ? null : parent;
		}
	}

	private static boolean shownByTheUserInterface(UIService ui) {
		return ui != null && !ui.isHeadless() && ui.getDefaultUI() != null;
	}

	private static boolean registered(ImagePlus imp) {
		int[] ids = Interpreter.getBatchModeImageIDs();
		if (ids == null) return false;
		for (int id : ids)
			if (id == imp.getID()) return true;
		return false;
	}
}
